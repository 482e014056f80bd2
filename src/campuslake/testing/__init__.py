"""Helpers for exercising campuslake against real services (used by the tests and the benchmark)."""
