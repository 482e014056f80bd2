"""The compute seam: stage code runs SQL through an Engine and never imports a backend."""

from __future__ import annotations

from campuslake.engines.base import Engine
from campuslake.errors import UsageError
from campuslake.registry import did_you_mean

ENGINES = ("duckdb", "spark")


def get_engine(name: str = "duckdb", **options: object) -> Engine:
    """Create the engine called `name`; heavy backends are imported only here."""
    if name == "duckdb":
        from campuslake.engines.duckdb import DuckDBEngine

        return DuckDBEngine(**options)  # type: ignore[arg-type]
    if name == "spark":
        from campuslake.engines.spark import SparkEngine

        return SparkEngine(**options)  # type: ignore[arg-type]
    raise UsageError(f"unknown engine {name!r}{did_you_mean(name, ENGINES)}")


__all__ = ["ENGINES", "Engine", "get_engine"]
