"""Benchmarks of Plenary's live editing against the reference collaboration servers.

``python -m bench.run --help`` from the repository root; docs/benchmarks.md has the figures.
"""
