"""Benchmarks: speed and memory targets, measured against a baseline from the same run (see README.md)."""
