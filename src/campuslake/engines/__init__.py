"""The compute seam: stage code runs SQL through an Engine and never imports a backend."""

from __future__ import annotations

from campuslake.engines.base import Engine
from campuslake.errors import UsageError
from campuslake.registry import did_you_mean

ENGINES = ("duckdb", "spark")


def check_engine_name(name: str) -> str:
    """`name` if it is an engine's, else a UsageError naming the closest one."""
    if name not in ENGINES:
        raise UsageError(f"unknown engine {name!r}{did_you_mean(name, ENGINES)}")
    return name


def get_engine(name: str = "duckdb", **options: object) -> Engine:
    """Create the engine called `name`; heavy backends are imported only here."""
    check_engine_name(name)
    if name == "duckdb":
        from campuslake.engines.duckdb import DuckDBEngine

        return DuckDBEngine(**options)  # type: ignore[arg-type]
    from campuslake.engines.spark import SparkEngine

    return SparkEngine(**options)  # type: ignore[arg-type]


__all__ = ["ENGINES", "Engine", "check_engine_name", "get_engine"]
