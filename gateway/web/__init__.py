"""The web gateway: the pages people reach from the links in their emails (a client of the gRPC
gateway only, never of the services)."""
