"""`python -m bench` (`make bench`): every benchmark of `make bench`, one after the other, each in
a process of its own; stops at the first that fails."""

from __future__ import annotations

import subprocess
import sys

# In the order `make bench` runs them. notes_render (CPU only, no deployment) is run by hand.
BENCHMARKS = (
    "getmember",
    "events",
    "bulk_import",
    "signin",
    "spaces",
    "scheduling",
    "web",
    "assessment",
    "content",
    "instances",
    "reporting",
    "load",
)


def main(argv: list[str]) -> int:
    for name in BENCHMARKS:
        print(f"bench: === {name} ===", flush=True)
        code = subprocess.call([sys.executable, "-m", f"bench.{name}", *argv])
        if code:
            print(f"bench: {name} failed (exit {code})", file=sys.stderr, flush=True)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
