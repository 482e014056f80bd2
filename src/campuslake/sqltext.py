"""Quoting for SQL text built in Python: one place, so every engine and stage quotes alike."""

from __future__ import annotations


def sql_literal(value: str) -> str:
    """A string literal: `O'Neil` -> `'O''Neil'`."""
    return "'" + value.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """A quoted identifier: `Submission Date` -> `"Submission Date"`."""
    return '"' + name.replace('"', '""') + '"'
