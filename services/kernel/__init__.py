"""The kernel: building blocks every service (and the gateway) shares, written once.

The modules directly in this package are the framework-free core (configuration, clock, errors,
tokens, logging, request context); the gateway may import them. `services.kernel.runtime` is for
nameko services only.
"""
