"""Metrics and measurements shared by the CLI, the tests and the benchmarks."""
