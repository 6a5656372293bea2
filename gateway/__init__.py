"""Gateways: `api` (gRPC, the only door for clients) and, later, `web` (the browser's)."""
