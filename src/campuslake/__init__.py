"""campuslake: a lakehouse for student, career and alumni data (public API)."""

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
