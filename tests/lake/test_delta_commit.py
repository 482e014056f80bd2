"""CuratedTables.commit_files: Parquet files written by pyarrow or DuckDB, committed to Delta.

deltalake itself is the oracle: its readers must return the committed rows, and the statistics
must be the ones write_deltalake writes for the same data.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from campuslake.lake.delta import CuratedTables
from campuslake.lake.storage import LakeStorage

UTC = dt.timezone.utc


@pytest.fixture
def curated(tmp_path: Path) -> CuratedTables:
    return CuratedTables(LakeStorage(str(tmp_path / "lake")))


def rows_of(batch_id: str, n: int, start: int = 0) -> pa.Table:
    return pa.table({
        "_batch_id": pa.array([batch_id] * n, pa.string()),
        "name": pa.array([f"person {i}" for i in range(start, start + n)], pa.string()),
        "year": pa.array(range(start, start + n), pa.int64()),
        "_ingested_at": pa.array([dt.datetime(2024, 5, 1, 12, 0, 0, 123456, UTC)] * n, pa.timestamp("us", tz="UTC")),
    })


def write(curated: CuratedTables, table: str, data: pa.Table) -> str:
    path = curated.new_data_file(table)
    pq.write_table(data, curated.storage.path(path))
    return path


def read(curated: CuratedTables, table: str, **scan: object) -> list[dict[str, object]]:
    delta = DeltaTable(curated.uri(table))
    rows = delta.to_pyarrow_dataset().to_table(**scan).to_pylist()  # type: ignore[arg-type]
    return sorted(rows, key=lambda row: (row["_batch_id"], row["year"]))


def add_stats(delta: DeltaTable) -> list[dict[str, object]]:
    return pa.table(delta.get_add_actions(flatten=True)).to_pylist()


def log_stats(table_uri: str) -> list[dict[str, object]]:
    """The stats JSON of every add action in the table's log, as written."""
    stats = []
    for commit in sorted(Path(table_uri, "_delta_log").glob("*.json")):
        for line in commit.read_text().splitlines():
            action = json.loads(line)
            if "add" in action:
                stats.append(json.loads(action["add"]["stats"]))
    return stats


def test_new_data_file_is_a_fresh_parquet_path_in_the_table_folder(curated: CuratedTables) -> None:
    first, second = curated.new_data_file("alumni"), curated.new_data_file("alumni")
    assert first != second
    assert first.startswith("curated/alumni/part-") and first.endswith(".parquet")
    assert curated.storage.exists("curated/alumni")


def test_first_commit_creates_the_table_with_the_files_rows(curated: CuratedTables) -> None:
    files = [write(curated, "alumni", rows_of("a", 3)), write(curated, "alumni", rows_of("b", 2))]
    assert curated.commit_files("alumni", files, metadata={"run": "r1"}) == 0
    assert [(row["_batch_id"], row["year"]) for row in read(curated, "alumni")] == \
        [("a", 0), ("a", 1), ("a", 2), ("b", 0), ("b", 1)]
    assert read(curated, "alumni")[0]["_ingested_at"] == dt.datetime(2024, 5, 1, 12, 0, 0, 123456, UTC)
    history = DeltaTable(curated.uri("alumni")).history()
    assert history[0]["run"] == "r1"
    assert curated.version_and_rows("alumni") == (0, 5)


def test_statistics_are_the_ones_write_deltalake_writes(curated: CuratedTables, tmp_path: Path) -> None:
    data = pa.table({
        "_batch_id": ["a"] * 4,
        "name": ["Zoë", None, "Ana", "José"],
        "year": pa.array([2001, None, -5, 2030], pa.int64()),
        "small": pa.array([3, 1, None, 7], pa.int32()),
        "at": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 123456, UTC), None,
                        dt.datetime(1960, 1, 1, 0, 0, 0, 999, UTC), dt.datetime(2025, 6, 1, 0, 0, 0, 999999, UTC)],
                       pa.timestamp("us", tz="UTC")),
        "local": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 123456), None, dt.datetime(2023, 1, 1),
                           dt.datetime(2025, 6, 1)], pa.timestamp("us")),
        "day": pa.array([dt.date(2024, 1, 2), None, dt.date(2023, 1, 1), dt.date(2025, 6, 1)]),
        "empty": pa.array([None] * 4, pa.string()),
    })
    path = curated.new_data_file("alumni")
    pq.write_table(data, curated.storage.path(path), row_group_size=2)  # bounds over two row groups
    curated.commit_files("alumni", [path], metadata={})
    reference = str(tmp_path / "reference")
    write_deltalake(reference, data)

    assert log_stats(curated.uri("alumni")) == log_stats(reference)
    assert DeltaTable(curated.uri("alumni")).schema().to_json() == DeltaTable(reference).schema().to_json()
    [stats] = add_stats(DeltaTable(curated.uri("alumni")))
    assert stats["num_records"] == 4
    assert (stats["min.name"], stats["max.name"]) == ("Ana", "Zoë")
    assert (stats["min.year"], stats["max.year"]) == (-5, 2030)
    assert stats["max.at"] == dt.datetime(2025, 6, 1, 0, 0, 0, 999000, UTC)  # milliseconds, as delta-rs
    assert stats["null_count.name"] == 1 and stats["null_count.empty"] == 4


def test_a_duckdb_file_is_committed_and_filters_skip_files_by_its_statistics(curated: CuratedTables) -> None:
    first = write(curated, "alumni", rows_of("a", 3))
    curated.commit_files("alumni", [first], metadata={})
    second = curated.new_data_file("alumni")
    duckdb.sql(f"""
        COPY (SELECT 'b' AS _batch_id, 'person ' || i AS name, i AS year,
                     TIMESTAMPTZ '2024-05-01 12:00:00.123456+00' AS _ingested_at
              FROM range(100, 110) t(i))
        TO '{curated.storage.path(second)}' (FORMAT parquet, COMPRESSION zstd)""")
    assert curated.commit_files("alumni", [second], metadata={}) == 1

    dataset = DeltaTable(curated.uri("alumni")).to_pyarrow_dataset()
    assert dataset.count_rows() == 13
    only_b = pads.field("_batch_id") == "b"
    assert [fragment.path.rsplit("/", 1)[-1] for fragment in dataset.get_fragments(filter=only_b)] == \
        [second.rsplit("/", 1)[1]]
    assert [row["year"] for row in read(curated, "alumni", filter=pads.field("year") >= 105)] == list(range(105, 110))
    stats = {row["path"]: row for row in add_stats(DeltaTable(curated.uri("alumni")))}[second.rsplit("/", 1)[1]]
    assert (stats["min.year"], stats["max.year"], stats["min._batch_id"], stats["max._batch_id"]) == (100, 109, "b", "b")
    assert stats["min._ingested_at"] == dt.datetime(2024, 5, 1, 12, 0, 0, 123000, UTC)


def test_replacing_a_batch_twice_leaves_one_copy_and_other_batches_alone(curated: CuratedTables) -> None:
    curated.commit_files("alumni", [write(curated, "alumni", rows_of("a", 3)),
                                    write(curated, "alumni", rows_of("b", 2))], metadata={})
    for version in (1, 2):
        new = write(curated, "alumni", rows_of("a", 4, start=10 * version))
        assert curated.commit_files("alumni", [new], replace_batch="a", metadata={}) == version
        assert [(row["_batch_id"], row["year"]) for row in read(curated, "alumni")] == \
            [("a", 10 * version + i) for i in range(4)] + [("b", 0), ("b", 1)]
    assert len(DeltaTable(curated.uri("alumni")).file_uris()) == 2


def test_replacing_a_batch_with_no_files_or_only_empty_files_removes_its_rows(curated: CuratedTables) -> None:
    curated.commit_files("alumni", [write(curated, "alumni", rows_of("a", 3)),
                                    write(curated, "alumni", rows_of("b", 2))], metadata={})
    empty = write(curated, "alumni", rows_of("b", 0))
    assert curated.commit_files("alumni", [empty], replace_batch="a", metadata={}) == 1
    assert [row["_batch_id"] for row in read(curated, "alumni")] == ["b", "b"]
    assert not curated.storage.exists(empty)  # never in the log, so not left behind either
    assert curated.commit_files("alumni", [], replace_batch="b", metadata={}) == 2
    assert read(curated, "alumni") == []
    assert DeltaTable(curated.uri("alumni")).file_uris() == []


def test_a_table_created_from_an_empty_file_has_its_schema_and_no_rows(curated: CuratedTables) -> None:
    assert curated.commit_files("alumni", [], replace_batch="a", metadata={}) is None
    assert curated.commit_files("alumni", [write(curated, "alumni", rows_of("a", 0))], replace_batch="a",
                                metadata={}) == 0
    assert curated.version_and_rows("alumni") == (0, 0)
    assert DeltaTable(curated.uri("alumni")).schema().to_arrow().names == ["_batch_id", "name", "year", "_ingested_at"]


def test_a_file_mixing_batches_falls_back_to_a_predicate_delete(curated: CuratedTables) -> None:
    mixed = pa.concat_tables([rows_of("a", 2), rows_of("c", 2, start=5)])
    curated.commit_files("alumni", [write(curated, "alumni", mixed), write(curated, "alumni", rows_of("b", 1))],
                         metadata={})
    new = write(curated, "alumni", rows_of("b", 1, start=7))
    # "b" lies between the mixed file's bounds "a" and "c": the delete takes one more commit
    assert curated.commit_files("alumni", [new], replace_batch="b", metadata={}) == 2
    assert [(row["_batch_id"], row["year"]) for row in read(curated, "alumni")] == \
        [("a", 0), ("a", 1), ("b", 7), ("c", 5), ("c", 6)]


def test_files_written_by_write_deltalake_are_replaced_by_batch_too(curated: CuratedTables) -> None:
    write_deltalake(curated.uri("alumni"), rows_of("a", 3))
    write_deltalake(curated.uri("alumni"), rows_of("b", 2), mode="append")
    assert curated.commit_files("alumni", [write(curated, "alumni", rows_of("a", 1, start=9))],
                                replace_batch="a", metadata={}) == 2
    assert [(row["_batch_id"], row["year"]) for row in read(curated, "alumni")] == [("a", 9), ("b", 0), ("b", 1)]


def test_overwrite_replaces_the_table_and_may_change_its_schema(curated: CuratedTables) -> None:
    curated.commit_files("current", [write(curated, "current", rows_of("a", 3))], metadata={})
    table_id = DeltaTable(curated.uri("current")).metadata().id
    assert curated.commit_files("current", [write(curated, "current", rows_of("b", 2))], overwrite=True,
                                metadata={}) == 1
    assert [row["_batch_id"] for row in read(curated, "current")] == ["b", "b"]
    assert DeltaTable(curated.uri("current")).metadata().id == table_id  # same schema: the same table

    other = pa.table({"person": ["x"], "seen": pa.array([dt.datetime(2024, 1, 1)], pa.timestamp("us"))})
    assert curated.commit_files("current", [write(curated, "current", other)], overwrite=True, metadata={}) == 2
    delta = DeltaTable(curated.uri("current"))
    assert delta.to_pyarrow_table().to_pylist() == [{"person": "x", "seen": dt.datetime(2024, 1, 1)}]
    assert "timestampNtz" in (delta.protocol().reader_features or [])


def test_a_file_with_other_columns_or_types_is_refused_and_nothing_is_committed(curated: CuratedTables) -> None:
    curated.commit_files("alumni", [write(curated, "alumni", rows_of("a", 3))], metadata={})
    wrong_type = rows_of("b", 1).set_column(2, "year", pa.array([1], pa.int32()))
    for data in (wrong_type, rows_of("b", 1).drop_columns(["name"])):
        with pytest.raises(ValueError, match="columns and types"):
            curated.commit_files("alumni", [write(curated, "alumni", data)], replace_batch="b", metadata={})
    assert curated.version_and_rows("alumni") == (0, 3)


def test_paths_outside_the_table_folder_are_refused(curated: CuratedTables) -> None:
    stray = "curated/other/part-1.parquet"
    curated.storage.make_dirs("curated/other")
    pq.write_table(rows_of("a", 1), curated.storage.path(stray))
    for path in (stray, "curated/alumni/_delta_log/x.parquet", "curated/alumni/../other/part-1.parquet"):
        with pytest.raises(ValueError, match="not a data file"):
            curated.commit_files("alumni", [path], metadata={})
    assert not curated.exists("alumni")
