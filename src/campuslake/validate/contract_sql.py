"""Compile a dataset contract into SQL that types, normalizes and checks every row of a batch.

The result has one row per input row: the typed, normalized contract columns, the raw cells,
and `_reasons`, a list of {code, column, value, message} (empty for a valid row).
Each column is computed in stages (present -> normalized -> typed), one select per stage, so
no expression is evaluated twice however many checks refer to it. The present stage is the
reader's: it trimmed and collapsed every contract cell's spaces and removed null tokens
(`qN` beside cell `cN`, see campuslake.ingest.csv_split).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from campuslake.config import ColumnSpec, Contract, NormalizationConfig
from campuslake.ingest.csv_source import FLAGS_COLUMN, REPLACEMENT
from campuslake.ingest.csv_split import FLAG_CONTROL, FLAG_LINE_BREAK, FLAG_OPEN_QUOTE, FLAG_UNREADABLE
from campuslake.transform import normalize as rules
from campuslake.sqltext import sql_identifier, sql_literal
from campuslake.transform.normalize import python_match_key
from campuslake.validate.headers import HeaderMatch
from campuslake.validate.reasons import RowReason

FIELD_COUNT = "_field_count"
CONTROL_CHARACTER = r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]"
"""C0, DEL and C1 control characters but those str.isspace() accepts (the reader made them spaces)"""
REASONS = "_reasons"


@dataclass(frozen=True)
class ColumnSQL:
    """The SQL of one contract column; each stage refers to the previous one by column name."""

    spec: ColumnSpec
    index: int
    cell: str
    """raw cell column (`cN`), or a NULL literal when the file lacks the column"""
    present_sql: str
    """the cell's value: spaces collapsed, null tokens removed (NULL = no value)"""
    normalized_sql: str = ""
    """over `present`: after the column's normalization rules"""
    typed_sql: str = ""
    """over `normalized` (and `digits` for phones): the curated value, NULL when it cannot be made"""
    digits_sql: str | None = None
    """over `normalized`, phones only: the number without formatting (the lookup join key)"""
    national_sql: str | None = None
    """over `digits`, phones only: the national number, when written in a form of the region"""
    rule_steps: tuple[str, ...] = ()
    """one expression per normalization rule, each over the previous step (`rule_step(k - 1)`)"""

    def rule_step(self, k: int) -> str:
        return f"r{self.index}_{k}"

    @property
    def present(self) -> str:
        return f"p{self.index}"

    @property
    def normalized(self) -> str:
        return f"n{self.index}"

    @property
    def digits(self) -> str:
        return f"d{self.index}"

    @property
    def national(self) -> str:
        return f"m{self.index}"

    @property
    def typed(self) -> str:
        return f"t{self.index}"


def present_value(position: int, alias: str = "") -> str:
    """SQL: the value of file column `position`, from its cell `cN` and the reader's present form
    `qN` (NULL: the cell as it is; '': no value)."""
    return f"nullif(coalesce({alias}q{position}, {alias}c{position}), '')"


def _spellings(spec: ColumnSpec) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in spec.allowed or []:
        mapping[python_match_key(value)] = value
    for value, variants in (spec.canonical or {}).items():
        for spelling in [value, *variants]:
            mapping[python_match_key(spelling)] = value
    return mapping


def column_sql(spec: ColumnSpec, index: int, cell: str, present: str, config: NormalizationConfig,
               phone_lookup: str | None = None) -> ColumnSQL:
    """The column's stages over raw cell `cell` whose value (see present_value) is `present`."""
    # One select per rule: a rule may use its input more than once, and nesting the rules as
    # text would evaluate the earlier ones again for every use. collapse_spaces is the reader's.
    column = ColumnSQL(spec, index, cell, present)  # its stage names now, its SQL at the end
    steps, previous = [], column.present
    for rule in spec.normalize:
        if rule != "collapse_spaces":
            steps.append(rules.apply_rules(previous, [rule], config))
            previous = column.rule_step(len(steps) - 1)
    value, digits, national = column.normalized, None, None
    if spec.type == "integer":
        typed = f"CASE WHEN regexp_full_match({value}, '[+-]?[0-9]{{1,18}}') THEN CAST({value} AS BIGINT) END"
    elif spec.type == "timestamp":
        typed = rules.timestamp(value, spec.formats)
    elif spec.type == "email":
        lowered, valid = rules.email(value)
        typed = f"CASE WHEN {valid} THEN {lowered} END"
    elif spec.type == "phone":
        digits = rules.phone_digits(value)
        national = rules.phone_national(column.digits, config.default_region)
        fast = rules.phone_e164(column.national, config.default_region)
        typed = f"coalesce({fast}, {phone_lookup}.e164)" if phone_lookup else fast
    elif spec.allowed or spec.canonical:
        typed = rules.canonical_value(value, _spellings(spec))
    else:
        typed = value
    return replace(column, normalized_sql=previous, typed_sql=typed, digits_sql=digits, national_sql=national,
                   rule_steps=tuple(steps))


def by_value(spec: ColumnSpec) -> bool:
    """Columns whose whole chain runs once per distinct value and joins back, not once per row:
    vocabulary columns (allowed/canonical values: a few spellings over many rows), and columns
    whose rules fold case (names: far fewer distinct values once case is set aside)."""
    return bool(spec.allowed or spec.canonical) or rules.folds_case(spec.normalize)


def value_key(spec: ColumnSpec, present: str) -> str:
    """The value a by-value column's chain runs on: the present value itself, or for case-folding
    rules an ASCII value in lower case, since then every spelling of it gives the same result.
    Other values keep their case: lower() is not harmless for every script."""
    if not rules.folds_case(spec.normalize):
        return present
    return f"CASE WHEN strlen({present}) = length({present}) THEN lower({present}) ELSE {present} END"


def _stages(columns: list[ColumnSQL], source: str, lookups: dict[str, str] | None = None) -> str:
    """present -> one select per rule -> normalized (+ digits -> national) -> typed, nested over `source`;
    phone columns in `lookups` join their (digits, e164) relation before the typed stage."""
    if not columns:
        return source
    lookups = lookups or {}
    present = ", ".join(f"{c.present_sql} AS {c.present}" for c in columns)
    staged = f"(SELECT *, {present} FROM {source})"
    for k in range(max(len(c.rule_steps) for c in columns)):
        steps = ", ".join(f"{c.rule_steps[k]} AS {c.rule_step(k)}" for c in columns if k < len(c.rule_steps))
        staged = f"(SELECT *, {steps} FROM {staged})"
    normalized = ", ".join(f"{c.normalized_sql} AS {c.normalized}" for c in columns)
    digits = "".join(f", {c.digits_sql} AS {c.digits}" for c in columns if c.digits_sql)
    national = "".join(f", {c.national_sql} AS {c.national}" for c in columns if c.national_sql)
    typed = ", ".join(f"{c.typed_sql} AS {c.typed}" for c in columns)
    joins = " ".join(f"LEFT JOIN {lookups[c.spec.name]} AS lookup_{c.spec.name} "
                     f"ON lookup_{c.spec.name}.digits = s.{c.digits}"
                     for c in columns if c.spec.name in lookups)
    staged = f"(SELECT *{digits} FROM (SELECT *, {normalized} FROM {staged}))"
    if national:
        staged = f"(SELECT *{national} FROM {staged})"
    return f"(SELECT s.*, {typed} FROM {staged} AS s {joins})"


def _staged(columns: list[ColumnSQL], relation: str, keep: str, lookups: dict[str, str],
            by_value_columns: dict[int, tuple[int, ColumnSQL]]) -> str:
    """Every column's stages over `relation`. Columns in `by_value_columns` (index -> its file
    position and the column built over a value named `cell`) are computed once per distinct
    value and joined back."""
    base = f"(SELECT {keep} FROM {relation})"
    if by_value_columns:
        joins, picked = [], []
        for index, (position, column) in by_value_columns.items():
            distinct = f"(SELECT DISTINCT {value_key(column.spec, present_value(position))} AS cell FROM {relation})"
            joins.append(f"LEFT JOIN {_stages([column], distinct)} AS v{index} ON v{index}.cell "
                         f"IS NOT DISTINCT FROM {value_key(column.spec, present_value(position, 'base.'))}")
            picked += [f"v{index}.{ref}" for ref in (column.present, column.normalized, column.typed)]
        base = f"(SELECT base.*, {', '.join(picked)} FROM {base} AS base {' '.join(joins)})"
    inline = [c for c in columns if c.index not in by_value_columns]
    return _stages(inline, base, lookups)


LISTED_VALUES = 12
"""an unknown value's message names the allowed values when there are no more than this many"""
_EXAMPLE_TIME = dt.datetime(2024, 3, 1, 13, 45, 30)
_LINE_FEED = sql_literal("\n")


def _type_words(spec: ColumnSpec) -> str:
    """What a value of the column's type looks like, for the bad_type message."""
    if spec.type == "integer":
        return "a whole number"
    if not spec.formats:
        return "a date/time"
    examples = []
    for form in spec.formats:
        try:
            examples.append(_EXAMPLE_TIME.strftime(form))
        except ValueError:  # a directive this platform's strftime lacks: show the format itself
            examples.append(form)
    listed = ", ".join(examples[:-1]) + " or " + examples[-1] if len(examples) > 1 else examples[0]
    return f"a date/time written like {listed}"


def _allowed_words(spec: ColumnSpec) -> str:
    """The allowed values, for the unknown_value message (a long vocabulary only by its size)."""
    values = sorted({*(spec.allowed or []), *(spec.canonical or {})})
    if len(values) > LISTED_VALUES:
        return f"one of the contract's {len(values)} allowed values"
    return "one of: " + ", ".join(values)


def _reason(code: RowReason, column: ColumnSQL, message_sql: str) -> str:
    return (f"{{'code': {sql_literal(code.value)}, 'column': {sql_literal(column.spec.name)}, "
            f"'value': {column.cell}, 'message': {message_sql}}}")


def _checks(column: ColumnSQL) -> list[tuple[str, str]]:
    """(problem condition, reason struct) for every check the column declares."""
    spec, name = column.spec, sql_literal(column.spec.name + ": ")
    shown = f"'''' || {column.cell} || ''''"
    checks: list[tuple[str, RowReason, str]] = []
    if spec.required:
        checks.append((f"{column.present} IS NULL", RowReason.MISSING_REQUIRED,
                       f"{sql_literal(spec.name + ' is required but has no value')}"))
    # Only checks that can fail are written: each is one more condition on every row.
    if rules.EMPTYING_RULES.intersection(spec.normalize):
        checks.append((f"{column.present} IS NOT NULL AND {column.normalized} IS NULL",
                       RowReason.EMPTY_AFTER_NORMALIZATION,
                       f"{name} || {shown} || ' holds nothing once titles and suffixes are removed'"))
    failed = f"{column.normalized} IS NOT NULL AND {column.typed} IS NULL"
    if spec.type in ("integer", "timestamp"):
        checks.append((failed, RowReason.BAD_TYPE,
                       f"{name} || {shown} || {sql_literal(' is not ' + _type_words(spec))}"))
    elif spec.type == "email":
        checks.append((failed, RowReason.BAD_EMAIL, f"{name} || {shown} || ' is not a valid e-mail address'"))
    elif spec.type == "phone":
        checks.append((failed, RowReason.BAD_PHONE, f"{name} || {shown} || ' is not a valid phone number'"))
    elif spec.allowed or spec.canonical:
        checks.append((failed, RowReason.UNKNOWN_VALUE,
                       f"{name} || {shown} || {sql_literal(' is not allowed: use ' + _allowed_words(spec))}"))
    if spec.min is not None:
        checks.append((f"{column.typed} < {spec.min}", RowReason.OUT_OF_RANGE,
                       f"{name} || {shown} || ' is below the minimum {spec.min:g}'"))
    if spec.max is not None:
        checks.append((f"{column.typed} > {spec.max}", RowReason.OUT_OF_RANGE,
                       f"{name} || {shown} || ' is above the maximum {spec.max:g}'"))
    if spec.pattern:
        checks.append((f"NOT regexp_full_match(CAST({column.typed} AS VARCHAR), {sql_literal(spec.pattern)})",
                       RowReason.PATTERN_MISMATCH, f"{name} || {shown} || ' does not match {spec.pattern}'"))
    if keeps_text(spec):
        # Each test only on the rows the reader flagged as it split them: a regular expression
        # searched through every cell costs ~0.28 s per 1M rows, for a fault almost no row has.
        control = f"regexp_matches({column.present}, {sql_literal(CONTROL_CHARACTER)})"
        checks.append((_flagged(FLAG_CONTROL, control), RowReason.CONTROL_CHARACTER,
                       f"{name} || 'holds a control character, an invisible byte no text has (NUL, ESC...)'"))
        checks.append((_flagged(FLAG_UNREADABLE, f"contains({column.cell}, {sql_literal(REPLACEMENT)})"),
                       RowReason.NOT_UTF8,
                       f"{name} || {shown} || ' holds bytes that are not UTF-8 text (shown as {REPLACEMENT}), "
                       f"unlike the rest of the file'"))
        if not spec.multiline:
            last_line = f"_source_line + length(_raw_line) - length(replace(_raw_line, {_LINE_FEED}, ''))"
            checks.append((_flagged(FLAG_LINE_BREAK, f"contains({column.cell}, {_LINE_FEED})"),
                           RowReason.LINE_BREAK,
                           f"{name} || 'holds a line break: the quoted value runs from line ' || _source_line || "
                           f"' to line ' || ({last_line}) || '; if its quote is stray, remove it'"))
    return [(condition, _reason(code, column, message)) for condition, code, message in checks]


def _flagged(flag: int, test: str) -> str:
    """SQL: `test` on the rows whose reader flags hold `flag`, false on the others."""
    return f"CASE WHEN ({FLAGS_COLUMN} & {flag}) <> 0 THEN {test} ELSE false END"


def keeps_text(spec: ColumnSpec) -> bool:
    """The column's curated value is the cell's text (normalized), not a number, date, e-mail
    address, phone number or vocabulary word read from it (those checks reject a control
    character already, or a phone's digits drop it)."""
    return spec.type == "string" and not (spec.allowed or spec.canonical)


def _columns(contract: Contract, config: NormalizationConfig, match: HeaderMatch,
             phone_lookups: dict[str, str]) -> tuple[list[ColumnSQL], dict[int, tuple[int, ColumnSQL]]]:
    """Each contract column over its cell, and the by-value ones again over a value named `cell`."""
    columns, by_value_columns = [], {}
    for index, spec in enumerate(contract.columns):
        position = match.positions.get(spec.name)
        lookup = f"lookup_{spec.name}" if spec.name in phone_lookups else None
        if position is None:
            missing = "CAST(NULL AS VARCHAR)"
            columns.append(column_sql(spec, index, missing, missing, config, lookup))
            continue
        columns.append(column_sql(spec, index, f"c{position}", present_value(position), config, lookup))
        if by_value(spec):
            by_value_columns[index] = (position, column_sql(spec, index, "cell", "cell", config))
    return columns, by_value_columns


def prepared_positions(match: HeaderMatch) -> list[int]:
    """File columns the reader prepares (gives a present form): those holding a contract column."""
    return sorted(set(match.positions.values()))


def raw_cell_columns(contract: Contract, match: HeaderMatch, width: int) -> list[str]:
    """What classify_sql passes on of the input, for quarantined rows: the raw cells `cN`, and
    the present forms `qN` of phone columns (phone_candidates_sql reads them)."""
    phones = sorted(match.positions[c.name] for c in contract.columns
                    if c.type == "phone" and c.name in match.positions)
    return [*(f"c{j}" for j in range(width)), *(f"q{j}" for j in phones)]


def phone_candidates_sql(contract: Contract, config: NormalizationConfig, match: HeaderMatch,
                         column: str, relation: str) -> str:
    """Distinct phone spellings SQL cannot decide; they are resolved with libphonenumber."""
    columns, _ = _columns(contract, config, match, {})
    phone = next(c for c in columns if c.spec.name == column)
    return (f"SELECT DISTINCT {phone.digits} AS digits FROM {_stages([phone], relation)} "
            f"WHERE {phone.digits} IS NOT NULL AND {phone.typed} IS NULL")


_SPANS_LINES = (f"CASE WHEN contains(_raw_line, {_LINE_FEED}) THEN ' (it runs over several lines inside "
                f"quotes: look for a quote that is missing or stray)' ELSE '' END")
"""a wrong field count's message, when the record holds line breaks (it is kept for such records)"""


def _repeats_header(header: list[str], prepared: list[int]) -> str:
    """SQL: the row's cells, spaces trimmed and collapsed, are the header's names (the reader's
    present forms where it made them: no string function per row)."""
    cells = [f"coalesce(q{j}, c{j})" if j in prepared else f"c{j}" for j in range(len(header))]
    names = [" ".join(name.split()) for name in header]
    return " AND ".join(f"{cell} = {sql_literal(name)}" for cell, name in zip(cells, names, strict=True))


def _line_reason(code: RowReason, message_sql: str) -> str:
    return (f"{{'code': {sql_literal(code.value)}, 'column': CAST(NULL AS VARCHAR), "
            f"'value': CAST(NULL AS VARCHAR), 'message': {message_sql}}}")


def classify_sql(contract: Contract, config: NormalizationConfig, match: HeaderMatch, header: list[str],
                 delimiter: str, relation: str, phone_lookups: dict[str, str]) -> str:
    """SQL returning every row of `relation` with typed columns, raw cells and `_reasons`
    (`_raw_line` only where `_reasons` is not empty). `header`: the file's, as written.

    `relation` has `_source_line`, `_raw_line`, `_field_count`, `_reader_flags`, cells `c0..c{width-1}` and the
    present forms `qN` of the contract's cells (prepared_positions); raw_cell_columns are passed on.
    `phone_lookups` maps a phone column to a relation (digits, e164) from phone_candidates_sql.
    """
    columns, by_value_columns = _columns(contract, config, match, phone_lookups)
    width = len(header)
    cells = ", ".join(f"c{j}" for j in range(width))
    carried = ", ".join(raw_cell_columns(contract, match, width))
    present = "".join(f", q{j}" for j in prepared_positions(match))
    keep = f"_source_line, _raw_line, {FIELD_COUNT}, {FLAGS_COLUMN}, {cells}{present}"
    # What is wrong with the line as a whole stands alone: its cells are not where the header says.
    width_message = f"'the line has ' || {FIELD_COUNT} || ' fields but the header has {width}' || {_SPANS_LINES}"
    line_checks = [
        (f"({FLAGS_COLUMN} & {FLAG_OPEN_QUOTE}) <> 0", RowReason.UNCLOSED_QUOTE,
         f"'the quote opening field ' || {FIELD_COUNT} || ' does not close: the line was read on its own, "
         f"and so were the lines after it; remove the stray quote or close it'"),
        (f"{FIELD_COUNT} > {width}", RowReason.TOO_MANY_FIELDS, width_message),
        (f"{FIELD_COUNT} < {width}", RowReason.TOO_FEW_FIELDS, width_message),
        (_repeats_header(header, prepared_positions(match)), RowReason.REPEATED_HEADER,
         "'the line repeats the header (were exports joined one after the other?): delete it'"),
    ]
    line_reasons = " ".join(f"WHEN {condition} THEN [{_line_reason(code, message)}]"
                            for condition, code, message in line_checks)
    checks = [check for column in columns for check in _checks(column)]
    # Cheap conditions first, the list of reason structs only for the few rows that fail one:
    # building a list per row and filtering it cost more than all the checks themselves.
    any_problem = " OR ".join(f"({condition})" for condition, _ in checks) or "false"
    reasons = ",\n            ".join(f"CASE WHEN {condition} THEN {reason} END" for condition, reason in checks)
    typed = ",\n    ".join(f"{c.typed} AS {sql_identifier(c.spec.name)}" for c in columns)
    names = ", ".join(sql_identifier(c.spec.name) for c in columns)
    # The raw line is rebuilt from the cells only for rows that keep it (the failing ones). Columns
    # are listed, not `* REPLACE`: Spark has no REPLACE, and expanding it there costs an analysis.
    return f"""
SELECT _source_line,
    CASE WHEN array_length({REASONS}) > 0
         THEN coalesce(_raw_line, concat_ws({sql_literal(delimiter)}, {cells})) END AS _raw_line,
    {carried}, {names}, {REASONS}
FROM (SELECT
    _source_line,
    _raw_line,
    {carried},
    {typed},
    CASE {line_reasons}
    WHEN {any_problem} THEN list_filter([
            {reasons}
        ], lambda x: x IS NOT NULL)
    ELSE [] END AS {REASONS}
FROM {_staged(columns, relation, keep, phone_lookups, by_value_columns)})
"""
