"""Benchmarks of the runbook's overhead: `python -m bench` (BENCHMARKS.md says what each number means)."""
