"""Match a file's header to a contract: by normalized name, in any order, with aliases."""

from __future__ import annotations

import re
from dataclasses import dataclass

from campuslake.config import Contract

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalize_header(name: str) -> str:
    """`' Employee ID'`, `EMPLOYEE_ID` and `employee-id` all become `employee_id`.

    >>> normalize_header('\\ufeffSubmission Date ')
    'submission_date'
    """
    return _NON_WORD.sub("_", name.replace("\ufeff", "").strip().lower()).strip("_")


@dataclass(frozen=True)
class HeaderMatch:
    """Which source column (by position) feeds each contract column, and what is left over."""

    positions: dict[str, int]
    """contract column name -> position of the source column that feeds it"""
    extra: list[str]
    """source headers that match no contract column (kept in raw, warned about)"""
    missing_required: list[str]
    missing_optional: list[str]
    ambiguous: list[str]
    """source headers that map to a contract column already taken"""


def match_header(header: list[str], contract: Contract) -> HeaderMatch:
    lookup = {alias: col.name for col in contract.columns for alias in col.header_names}
    positions: dict[str, int] = {}
    extra: list[str] = []
    ambiguous: list[str] = []
    for position, raw_name in enumerate(header):
        target = lookup.get(normalize_header(raw_name))
        if target is None:
            extra.append(raw_name)
        elif target in positions:
            ambiguous.append(raw_name)
        else:
            positions[target] = position
    missing = [c for c in contract.columns if c.name not in positions]
    return HeaderMatch(
        positions=positions,
        extra=extra,
        missing_required=[c.name for c in missing if c.required],
        missing_optional=[c.name for c in missing if not c.required],
        ambiguous=ambiguous,
    )
