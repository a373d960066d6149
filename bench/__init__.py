"""Benchmarks: scripts that print figures and ratios (run from the repository root)."""
