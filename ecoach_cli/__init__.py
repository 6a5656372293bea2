"""The `ecoach` command line (a client of the gRPC gateway)."""
