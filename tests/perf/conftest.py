"""Benchmarks run on demand (`python tests/perf/bench.py`), never in the default test run."""

collect_ignore_glob = ["bench*.py"]
