"""Benchmarks that print their figures; run them with `python -m benchmarks.<name>`."""
