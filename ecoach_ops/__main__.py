"""`python -m ecoach_ops`: the same as the `ecoach-ops` command."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
