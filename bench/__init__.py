"""`make bench`: the benchmarks, each a module run as `python -m bench.<name>` (its `--help`
says what it measures), on the shared kit of `benchkit` (a deployment of its own, the report's
common part, percentiles, results under `var/bench/`). The journal of their results is
docs/benchmarks.md."""
