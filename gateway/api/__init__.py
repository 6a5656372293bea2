"""The gRPC gateway: a plain threaded process (never eventlet) in front of the nameko services."""
