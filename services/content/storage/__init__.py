"""Content's storage: its tables (`tables.py`), one module per repository, and the unit of work
that exposes them (`unit.py`)."""
