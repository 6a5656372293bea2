"""Scheduling's storage: `tables` (what the migrations create), one module per repository, and
`unit` (the unit of work that declares them)."""
