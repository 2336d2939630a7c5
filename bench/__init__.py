"""Benchmarks, run by hand (see README.md). A package so tests can reuse a harness, such as the
deadline burst's, at a small size."""
