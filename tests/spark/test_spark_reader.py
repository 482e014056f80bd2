"""The Spark engine hands a result to the driver a partition at a time, in the query's order."""

from __future__ import annotations

import pyarrow as pa


def test_a_sorted_result_spread_over_partitions_arrives_whole_and_in_order(spark, duck):
    # Without coalescing, the sort leaves its rows in two range partitions (two cores), each
    # fetched on its own: the reader must join them in order and lose nothing. (The engine's
    # SQL has no SET for Spark settings, so the test sets it on the engine's session.)
    spark._spark.conf.set("spark.sql.adaptive.coalescePartitions.enabled", "false")
    numbers = pa.table({"i": pa.array([(k * 7919) % 20000 for k in range(20000)], pa.int64())})
    sql = "SELECT i, 'row ' || CAST(i AS VARCHAR) AS label FROM numbers ORDER BY i DESC"
    for engine in (spark, duck):
        engine.register("numbers", numbers)
    got = spark.reader(sql).read_all()
    assert got.num_rows == 20000
    assert got.column("i").to_pylist() == list(range(19999, -1, -1))
    assert got.to_pylist() == duck.reader(sql).read_all().to_pylist()
