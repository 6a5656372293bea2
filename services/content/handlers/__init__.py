"""Content's use cases, one module per group: the library (resources), recommendations, the
copies of spaces, tenant keys and personal data."""
