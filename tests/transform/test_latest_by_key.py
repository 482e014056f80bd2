"""Latest row per key: each documented tie-break decides in its turn, whatever the rows' order."""

from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa
import pytest

from campuslake.engines import get_engine
from campuslake.transform.dedup import latest_by_key_sql

UTC = dt.timezone.utc
EARLY, LATE = dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2026, 2, 1, tzinfo=UTC)
DAY, NEXT_DAY = dt.datetime(2025, 6, 1), dt.datetime(2025, 6, 2)

# (key, submitted, ingested, file, line, batch, origin, winner): per key, the winner beats the other row
# at exactly the tie-break the key is named for, and loses or ties at every later one.
ROWS = [
    ("later submission", NEXT_DAY, EARLY, "a.csv", 2, "b1", 0, True),
    ("later submission", DAY, LATE, "z.csv", 9, "b9", 1, False),
    ("ingest time stands in for no date", None, LATE, "a.csv", 2, "b1", 0, True),
    ("ingest time stands in for no date", NEXT_DAY, EARLY, "z.csv", 9, "b9", 1, False),
    ("later ingest", DAY, LATE, "a.csv", 2, "b1", 0, True),
    ("later ingest", DAY, EARLY, "z.csv", 9, "b9", 1, False),
    ("later file name", DAY, EARLY, "b.csv", 2, "b1", 0, True),
    ("later file name", DAY, EARLY, "a.csv", 9, "b9", 1, False),
    ("later line", DAY, EARLY, "a.csv", 9, "b1", 0, True),
    ("later line", DAY, EARLY, "a.csv", 2, "b9", 1, False),
    ("later batch id", DAY, EARLY, "a.csv", 2, "b9", 0, True),
    ("later batch id", DAY, EARLY, "a.csv", 2, "b1", 1, False),
    ("higher origin", DAY, EARLY, "a.csv", 2, "b1", 1, True),
    ("higher origin", DAY, EARLY, "a.csv", 2, "b1", 0, False),
    ("only row", None, EARLY, "a.csv", 5, "b5", 0, True),
]


def rows_table(rows: list[tuple]) -> pa.Table:
    # a row's identity (batch, line, origin) is unique, as in a lake: lines are moved apart per key
    keys = sorted({row[0] for row in ROWS})
    rows = [(*row[:4], row[4] + 100 * keys.index(row[0]), *row[5:]) for row in rows]
    columns = list(zip(*rows, strict=True))
    return pa.table({
        "k": pa.array(columns[0], pa.string()),
        "submitted": pa.array(columns[1], pa.timestamp("us")),
        "_ingested_at": pa.array(columns[2], pa.timestamp("us", tz="UTC")),
        "_source_file": pa.array(columns[3], pa.string()),
        "_source_line": pa.array(columns[4], pa.int64()),
        "_batch_id": pa.array(columns[5], pa.string()),
        "origin": pa.array(columns[6], pa.int64()),
        "winner": pa.array(columns[7], pa.bool_()),
    })


@pytest.fixture(scope="module")
def engine():
    engine = get_engine("duckdb", threads=2)
    yield engine
    engine.close()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_tie_break_decides_in_its_turn_whatever_the_order_of_rows(engine, seed: int) -> None:
    shuffled = ROWS[:]
    random.Random(seed).shuffle(shuffled)
    engine.register("rows", rows_table(shuffled))
    got = engine.rows(f"SELECT k, winner FROM ({latest_by_key_sql('rows', ['k'], 'submitted', origin='origin')}) ORDER BY k")
    assert got == [{"k": k, "winner": True} for k in sorted({row[0] for row in ROWS})]
