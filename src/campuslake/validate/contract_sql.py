"""Compile a dataset contract into SQL that types, normalizes and checks every row of a batch.

The result has one row per input row: the typed, normalized contract columns, the raw cells,
and `_reasons`, a list of {code, column, value, message} (empty for a valid row).
"""

from __future__ import annotations

from dataclasses import dataclass

from campuslake.config import ColumnSpec, Contract, NormalizationConfig
from campuslake.transform import normalize as rules
from campuslake.transform.normalize import python_match_key, sql_list, sql_literal
from campuslake.validate.headers import HeaderMatch
from campuslake.validate.reasons import RowReason

FIELD_COUNT = "_field_count"
REASONS = "_reasons"


@dataclass(frozen=True)
class ColumnSQL:
    """The SQL pieces of one contract column, all over the raw cell."""

    spec: ColumnSpec
    cell: str
    """raw cell (VARCHAR), NULL when the file lacks the column"""
    present: str
    """cell with null tokens removed and spaces collapsed (NULL = no value)"""
    normalized: str
    """after the column's normalization rules"""
    typed: str
    """the curated value (typed, canonical), NULL when it cannot be made"""


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _spellings(spec: ColumnSpec) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in spec.allowed or []:
        mapping[python_match_key(value)] = value
    for value, variants in (spec.canonical or {}).items():
        for spelling in [value, *variants]:
            mapping[python_match_key(spelling)] = value
    return mapping


def column_sql(spec: ColumnSpec, cell: str, contract: Contract, config: NormalizationConfig,
               phone_lookup: str | None = None) -> ColumnSQL:
    tokens = sorted({t.strip().lower() for t in contract.null_tokens} - {""})
    collapsed = rules.collapse_spaces(cell)
    present = f"CASE WHEN lower({collapsed}) IN {sql_list(tokens)} THEN NULL ELSE {collapsed} END" if tokens else collapsed
    normalized = rules.apply_rules(present, spec.normalize, config)
    if spec.type == "integer":
        typed = f"CASE WHEN regexp_full_match({normalized}, '[+-]?[0-9]{{1,18}}') THEN CAST({normalized} AS BIGINT) END"
    elif spec.type == "timestamp":
        typed = rules.timestamp(normalized, spec.formats)
    elif spec.type == "email":
        lowered, valid = rules.email(normalized)
        typed = f"CASE WHEN {valid} THEN {lowered} END"
    elif spec.type == "phone":
        digits = rules.phone_digits(normalized)
        fast = rules.phone_e164(digits, config.default_region)
        typed = f"coalesce({fast}, {phone_lookup}.e164)" if phone_lookup else fast
    elif spec.allowed or spec.canonical:
        typed = rules.canonical_value(normalized, _spellings(spec))
    else:
        typed = normalized
    return ColumnSQL(spec, cell, present, normalized, typed)


_TYPE_WORDS = {"integer": "a whole number", "timestamp": "a date/time in a known format"}


def _reason(code: RowReason, column: ColumnSQL, message_sql: str) -> str:
    return (f"{{'code': {sql_literal(code.value)}, 'column': {sql_literal(column.spec.name)}, "
            f"'value': {column.cell}, 'message': {message_sql}}}")


def _checks(column: ColumnSQL) -> list[str]:
    """`CASE WHEN <problem> THEN <reason struct> END` for every check the column declares."""
    spec, name = column.spec, sql_literal(column.spec.name + ": ")
    shown = f"'''' || {column.cell} || ''''"
    checks: list[tuple[str, RowReason, str]] = []
    if spec.required:
        checks.append((f"{column.present} IS NULL", RowReason.MISSING_REQUIRED,
                       f"{sql_literal(spec.name + ' is required but has no value')}"))
    checks.append((f"{column.present} IS NOT NULL AND {column.normalized} IS NULL",
                   RowReason.EMPTY_AFTER_NORMALIZATION,
                   f"{name} || {shown} || ' holds nothing once titles and suffixes are removed'"))
    failed = f"{column.normalized} IS NOT NULL AND {column.typed} IS NULL"
    if spec.type in _TYPE_WORDS:
        checks.append((failed, RowReason.BAD_TYPE, f"{name} || {shown} || ' is not {_TYPE_WORDS[spec.type]}'"))
    elif spec.type == "email":
        checks.append((failed, RowReason.BAD_EMAIL, f"{name} || {shown} || ' is not a valid e-mail address'"))
    elif spec.type == "phone":
        checks.append((failed, RowReason.BAD_PHONE, f"{name} || {shown} || ' is not a valid phone number'"))
    elif spec.allowed or spec.canonical:
        checks.append((failed, RowReason.UNKNOWN_VALUE, f"{name} || {shown} || ' is not an allowed value'"))
    if spec.min is not None:
        checks.append((f"{column.typed} < {spec.min}", RowReason.OUT_OF_RANGE,
                       f"{name} || {shown} || ' is below the minimum {spec.min:g}'"))
    if spec.max is not None:
        checks.append((f"{column.typed} > {spec.max}", RowReason.OUT_OF_RANGE,
                       f"{name} || {shown} || ' is above the maximum {spec.max:g}'"))
    if spec.pattern:
        checks.append((f"NOT regexp_full_match(CAST({column.typed} AS VARCHAR), {sql_literal(spec.pattern)})",
                       RowReason.PATTERN_MISMATCH, f"{name} || {shown} || ' does not match {spec.pattern}'"))
    return [f"CASE WHEN {condition} THEN {_reason(code, column, message)} END"
            for condition, code, message in checks]


def phone_candidates_sql(spec: ColumnSpec, cell: str, contract: Contract, config: NormalizationConfig,
                         relation: str) -> str:
    """Distinct phone spellings SQL cannot decide; they are resolved with libphonenumber."""
    column = column_sql(spec, cell, contract, config)
    digits = rules.phone_digits(column.normalized)
    return f"SELECT DISTINCT {digits} AS digits FROM {relation} WHERE {digits} IS NOT NULL AND ({column.typed}) IS NULL"


def classify_sql(contract: Contract, config: NormalizationConfig, match: HeaderMatch, width: int,
                 delimiter: str, relation: str, phone_lookups: dict[str, str]) -> str:
    """SQL returning every row of `relation` with typed columns, raw cells and `_reasons`.

    `phone_lookups` maps a phone column to a relation (digits, e164) from phone_candidates_sql.
    """
    columns = []
    joins = []
    for spec in contract.columns:
        position = match.positions.get(spec.name)
        cell = f"r.c{position}" if position is not None else "CAST(NULL AS VARCHAR)"
        lookup = None
        if spec.name in phone_lookups:
            lookup = f"lookup_{spec.name}"
            digits = rules.phone_digits(column_sql(spec, cell, contract, config).normalized)
            joins.append(f"LEFT JOIN {phone_lookups[spec.name]} AS {lookup} ON {lookup}.digits = {digits}")
        columns.append(column_sql(spec, cell, contract, config, lookup))

    field_reason = (
        f"CASE WHEN r.{FIELD_COUNT} > {width} THEN [{{'code': '{RowReason.TOO_MANY_FIELDS.value}', "
        f"'column': CAST(NULL AS VARCHAR), 'value': CAST(NULL AS VARCHAR), 'message': 'the line has ' || "
        f"r.{FIELD_COUNT} || ' fields but the header has {width}'}}] "
        f"WHEN r.{FIELD_COUNT} < {width} THEN [{{'code': '{RowReason.TOO_FEW_FIELDS.value}', "
        f"'column': CAST(NULL AS VARCHAR), 'value': CAST(NULL AS VARCHAR), 'message': 'the line has ' || "
        f"r.{FIELD_COUNT} || ' fields but the header has {width}'}}]"
    )
    checks = ",\n            ".join(check for column in columns for check in _checks(column))
    cells = ", ".join(f"r.c{j}" for j in range(width))
    typed = ",\n        ".join(f"{c.typed} AS {_quote_identifier(c.spec.name)}" for c in columns)
    return f"""
SELECT
    r._source_line,
    coalesce(r._raw_line, concat_ws({sql_literal(delimiter)}, {cells})) AS _raw_line,
    {cells},
    {typed},
    {field_reason}
    ELSE list_filter([
            {checks}
        ], lambda x: x IS NOT NULL) END AS {REASONS}
FROM {relation} AS r
{chr(10).join(joins)}
"""
