"""campuslake: a lakehouse for student, career and alumni data (public API)."""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from campuslake.config import Contract, Settings, load_settings
    from campuslake.errors import CampuslakeError, CatalogError, ConfigError, EngineError, StorageError, UsageError
    from campuslake.ingest.landing import LandedFile, land_file
    from campuslake.lake.lake import Lake
    from campuslake.pipeline import BatchOutcome, RunResult, run_pending
    from campuslake.serve.query import QuerySession

__all__ = [
    "BatchOutcome",
    "CampuslakeError",
    "CatalogError",
    "ConfigError",
    "Contract",
    "EngineError",
    "Lake",
    "LandedFile",
    "QuerySession",
    "RunResult",
    "Settings",
    "StorageError",
    "UsageError",
    "land_file",
    "load_settings",
    "run_pending",
]

# Where each name lives. Imported on first use: `campuslake ingest` then loads neither the
# pipeline nor an engine (a process start-up is ~0.5 s, mostly imports).
_MODULES = {
    "BatchOutcome": "campuslake.pipeline", "RunResult": "campuslake.pipeline", "run_pending": "campuslake.pipeline",
    "CampuslakeError": "campuslake.errors", "CatalogError": "campuslake.errors", "ConfigError": "campuslake.errors",
    "EngineError": "campuslake.errors", "StorageError": "campuslake.errors", "UsageError": "campuslake.errors",
    "Contract": "campuslake.config", "Settings": "campuslake.config", "load_settings": "campuslake.config",
    "LandedFile": "campuslake.ingest.landing", "land_file": "campuslake.ingest.landing",
    "Lake": "campuslake.lake.lake",
    "QuerySession": "campuslake.serve.query",
}


def __getattr__(name: str) -> object:
    if name not in _MODULES:
        raise AttributeError(f"module 'campuslake' has no attribute {name!r}")
    value = getattr(_importlib.import_module(_MODULES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
