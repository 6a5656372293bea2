"""The assessment service's storage: its tables (tables.py) and one module per repository,
reached through its unit of work (unit.py)."""
