"""ecoach's operator's tool (`ecoach-ops`); see `ecoach_ops.cli` for its commands."""
