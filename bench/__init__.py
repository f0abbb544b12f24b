"""Benchmarks and evaluation on real pages: importable (``bench.devsets``) by training scripts and tests."""
