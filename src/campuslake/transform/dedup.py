"""Deduplication SQL: exact duplicates within a batch, and one latest row per key across batches."""

from __future__ import annotations

from campuslake.validate.contract_sql import REASONS


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def batch_status_sql(relation: str, columns: list[str], raw_columns: list[str]) -> str:
    """Add `_status`: quarantined (has reasons), duplicate (same values as an earlier valid row of
    the batch, compared after normalization) or valid. The first row by line is kept.

    `raw_columns` are kept for quarantined rows only (the others never need them), so the
    window's buffer holds little more than the curated values.
    """
    partition = ", ".join(_ident(c) for c in columns)
    only_bad = ", ".join(f"CASE WHEN len({REASONS}) > 0 THEN {_ident(c)} END AS {_ident(c)}" for c in raw_columns)
    return f"""
SELECT *,
    CASE
        WHEN len({REASONS}) > 0 THEN 'quarantined'
        WHEN row_number() OVER (PARTITION BY len({REASONS}) = 0, {partition} ORDER BY _source_line) > 1
            THEN 'duplicate'
        ELSE 'valid'
    END AS _status
FROM (SELECT * REPLACE ({only_bad}) FROM {relation})
"""


def latest_by_key_sql(relation: str, key: list[str], latest_by: str | None) -> str:
    """One row per key: the latest `latest_by` wins (ingest time stands in when it is empty);
    ties go to the later ingest, then the later file name, then the later line, then batch id.
    Every term is a value of the row, so the result does not depend on the order rows arrive."""
    when = f"coalesce({_ident(latest_by)}, CAST(_ingested_at AS TIMESTAMP))" if latest_by else "_ingested_at"
    partition = ", ".join(_ident(k) for k in key)
    return f"""
SELECT * EXCLUDE (_rank) FROM (
    SELECT *, row_number() OVER (
        PARTITION BY {partition}
        ORDER BY {when} DESC, _ingested_at DESC, _source_file DESC, _source_line DESC, _batch_id DESC
    ) AS _rank
    FROM {relation}
) WHERE _rank = 1
"""
