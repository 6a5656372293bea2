"""The HTTP/JSON API: the gRPC gateway's unary methods over HTTP with JSON bodies (ADR 0020)."""
