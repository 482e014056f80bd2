"""The campuslake error tree: every error carries the context a person needs to act on it."""

from __future__ import annotations


class CampuslakeError(Exception):
    """Base of every error campuslake raises on purpose; `context` names file, line, SQL..."""

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.context = {k: v for k, v in context.items() if v is not None}

    def __str__(self) -> str:
        where = ", ".join(f"{k}={v}" for k, v in self.context.items() if k != "sql")
        text = f"{self.message} ({where})" if where else self.message
        if "sql" in self.context:
            text += f"\n--- failing SQL ---\n{self.context['sql']}"
        return text


class ConfigError(CampuslakeError):
    """The configuration file is missing, malformed or inconsistent."""


class UsageError(CampuslakeError):
    """The caller asked for something that cannot be done as asked (bad name, bad query...)."""


class EngineError(CampuslakeError):
    """A statement failed in the compute engine; `context['sql']` holds the statement.
    `statement_at_fault`: the statement itself is wrong (its syntax, a name, a type, a feature
    the session disables), not the engine failing to run it."""

    def __init__(self, message: str, *, statement_at_fault: bool = False, **context: object) -> None:
        super().__init__(message, **context)
        self.statement_at_fault = statement_at_fault


class StorageError(CampuslakeError):
    """Reading or writing the lake failed."""


class CatalogError(CampuslakeError):
    """The catalog database could not be read or written."""
