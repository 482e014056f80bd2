"""The dialect layer: each DuckDB construct campuslake's SQL uses gives the same result on Spark."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from campuslake.engines.dialect import java_datetime_pattern, java_regex
from campuslake.config import load_settings
from campuslake.errors import EngineError
from campuslake.sqltext import sql_literal
from campuslake.transform.normalize import sql_in, timestamp

FORMATS = load_settings().dataset("alumni").column("submission_date").formats

VALUES = ["banana", " Mr. ana  cruz ", "a\u00a0\u000bb\u2003c", "é", "abc\n", "2024-01-05 10:00:00", "2024-1-5",
          "1/5/2024", "01/05/2024 23:59:59", "2024-01-05T07:08:09", "Hr it r&d o'neil-cruz", "x[y]", "", None]


def table() -> pa.Table:
    return pa.table({"v": pa.array(VALUES, pa.string()), "n": pa.array(range(len(VALUES)), pa.int64())})


def same(duck, spark, sql: str) -> list[dict]:
    for engine in (duck, spark):
        engine.register("t", table())
    expected, got = duck.rows(sql), spark.rows(sql)
    assert got == expected, sql
    return got


EXPRESSIONS = {
    "list_filter lambda": "list_filter([v, NULL, 'x'], lambda x: x IS NOT NULL)",
    "list_transform lambda": "array_to_string(list_transform([v, 'y'], lambda x: upper(x)), ';')",
    "list_contains": "list_contains(['banana', 'é'], lower(v))",
    "list_position: NULL when absent": "list_position(['banana', 'é'], lower(v))",
    "sql_in": sql_in("lower(v)", ["banana", "é", "-"]),
    "contains chr, starts_with, ends_with": "contains(v, chr(11)) OR starts_with(v, ' ') OR ends_with(v, 'a')",
    "regexp_full_match": "regexp_full_match(v, '[a-z]+')",
    "regexp_full_match alternatives": "regexp_full_match(v, 'ban|banana|[0-9/]+')",
    "regexp_matches $ at a final newline": "regexp_matches(v, '^ | $|  |c$')",
    "regexp_replace g, RE2 spaces": r"regexp_replace(v, '[\s\v\p{Z}\x{001C}-\x{001F}\x{0085}\x{FEFF}]+', '_', 'g')",
    "regexp_replace first match only": "regexp_replace(v, 'a', 'X')",
    "regexp_replace i, anchored": r"regexp_replace(v, '^ ?(?:m\.?r\.?)\s+', '', 'i')",
    "regexp_replace i, end": r"regexp_replace(v, '(?:^|\s+)(?:c\.?r\.?u\.?z)\s*$', '', 'i')",
    "regexp [ inside a class": "regexp_replace(v, '[[]', '(', 'g')",
    "regexp \\p{L}\\p{N} classes": r"regexp_replace(v, '[^\p{L}\p{N}&+#]+', ' ', 'g')",
    "strlen vs length": "strlen(v) - length(v)",
    "try_strptime with formats": f"try_strptime(v, [{', '.join(map(sql_literal, FORMATS))}])",
    "timestamp(): formats guarded by their literal characters": timestamp("v", FORMATS),
    "MAP {..}[key]": "MAP {'banana': 'B', 'é': 'E'}[lower(v)]",
    "IS NOT DISTINCT FROM": "v IS NOT DISTINCT FROM 'banana' OR v IS NOT DISTINCT FROM NULL",
    "struct list and array_length": "array_length(list_filter([{'code': v}, NULL], lambda r: r IS NOT NULL))",
    "struct field in a lambda": "array_to_string(list_transform([{'code': v, 'm': 'x'}], lambda r: r.code || r.m), ';')",
    "title_case_words": "title_case_words(v, 'hr|it|r&d')",
    "casts and concatenation": "CAST(n AS VARCHAR) || '/' || CAST(CAST('12' AS BIGINT) + n AS VARCHAR)",
    "TIMESTAMPTZ literal": "CAST(TIMESTAMPTZ '2026-11-22T00:57:12.565437+00:00' AS TIMESTAMP)",
    "starts_with, substr, concat_ws": "concat_ws('|', starts_with(v, 'ba'), substr(v, 3), v)",
}


@pytest.mark.parametrize("expression", EXPRESSIONS.values(), ids=EXPRESSIONS.keys())
def test_expression_gives_duckdbs_result(duck, spark, expression):
    same(duck, spark, f"SELECT n, {expression} AS r FROM t ORDER BY n")


def test_hash_tells_rows_apart(duck, spark):
    same(duck, spark, "SELECT count(DISTINCT hash(v, n)) AS a, count(DISTINCT hash(v)) AS b FROM t")


@pytest.mark.parametrize("sql", [
    "SELECT * REPLACE (upper(v) AS v) FROM t ORDER BY n",
    "SELECT * EXCLUDE (v) FROM t ORDER BY n",
    "SELECT r.* EXCLUDE (n) FROM t AS r WHERE n < 3 ORDER BY v",
    "SELECT * FROM (SELECT v FROM t WHERE n < 2 UNION ALL BY NAME SELECT n, v FROM t WHERE n > 10) ORDER BY n, v",
    "SELECT r.* FROM t AS r SEMI JOIN (SELECT n FROM t WHERE n % 2 = 0) AS w ON r.n = w.n ORDER BY n",
    "SELECT unnest([v, 'z']) AS u FROM t WHERE n < 2 ORDER BY u",
    "SELECT count(*) FILTER (WHERE n >= 5) AS a, round(count(*) FILTER (WHERE n >= 5) / count(*), 4) AS b, "
    "round(avg(n), 4) AS c FROM t",
], ids=["replace", "exclude", "qualified exclude", "union all by name", "semi join", "unnest", "aggregates"])
def test_query_gives_duckdbs_rows(duck, spark, sql):
    same(duck, spark, sql)


def test_table_statements_behave_as_in_duckdb(duck, spark, tmp_path):
    script = [
        "CREATE OR REPLACE TEMP VIEW src AS SELECT n, v FROM t WHERE n < 6",
        "CREATE OR REPLACE TABLE x AS SELECT *, 'new' AS status FROM src",
        "UPDATE x SET status = 'odd' WHERE n IN (SELECT n FROM x WHERE n % 2 = 1)",
        "CREATE OR REPLACE TEMP VIEW src AS SELECT 1 AS n",  # x keeps its rows: it is a table
        "DROP TABLE IF EXISTS y",
        "ALTER TABLE x RENAME TO y",
    ]
    for engine in (duck, spark):
        engine.register("t", table())
        for statement in script:
            engine.execute(statement)
    assert same(duck, spark, "SELECT * FROM y ORDER BY n")[1] == {"n": 1, "v": " Mr. ana  cruz ", "status": "odd"}
    for engine in (duck, spark):
        engine.execute("DROP TABLE y")
        with pytest.raises(EngineError):
            engine.rows("SELECT * FROM y")


def test_copy_and_write_parquet_write_one_file(duck, spark, tmp_path):
    from campuslake.lake.storage import LakeStorage

    storage = LakeStorage(str(tmp_path))
    for engine in (duck, spark):
        engine.register("t", table())
        engine.execute(f"COPY (SELECT * FROM t ORDER BY n) TO '{tmp_path}/{engine.name}.parquet' (FORMAT parquet)")
        assert engine.write_parquet("SELECT v, n FROM t WHERE n > 2", storage, f"out/{engine.name}.parquet") == 11
    assert pq.read_table(tmp_path / "spark.parquet").equals(pq.read_table(tmp_path / "duckdb.parquet"))
    spark_rows, duck_rows = (pq.read_table(tmp_path / "out" / f"{name}.parquet").sort_by("n")
                             for name in ("spark", "duckdb"))
    assert spark_rows.equals(duck_rows)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["duckdb.parquet", "spark.parquet"]


def test_register_parquet_and_arrow(duck, spark, tmp_path):
    from campuslake.lake.storage import LakeStorage

    pq.write_table(table(), tmp_path / "a.parquet")
    for engine in (duck, spark):
        engine.register_parquet("files", LakeStorage(str(tmp_path)), ["a.parquet"])
    assert same(duck, spark, "SELECT * FROM files ORDER BY n")[0]["v"] == "banana"


def test_sealed_session_refuses_files_and_writes(spark, tmp_path):
    pq.write_table(table(), tmp_path / "a.parquet")
    from_file = f'SELECT count(*) AS n FROM parquet."{tmp_path}/a.parquet"'
    assert spark.rows(from_file) == [{"n": len(VALUES)}]
    spark.register("t", table())
    spark.seal()
    assert not spark.is_read_only("CREATE OR REPLACE TABLE x AS SELECT 1")
    assert spark.is_read_only("SELECT * FROM t")
    for refused in (from_file, "SELECT reflect('java.lang.System', 'getenv', 'HOME')"):
        with pytest.raises(EngineError) as raised:
            spark.rows(refused)
        assert raised.value.statement_at_fault  # the caller asked for what the session refuses


@pytest.mark.parametrize(("re2", "java"), [
    (r"^ | $", r"^ | \z"),
    (r"[\s\v]+", r"[\t\n\f\r \x{000B}]+"),
    (r"\s", r"[\t\n\f\r ]"),
    (r"[[a&&b]", r"[\[a&\&b]"),
    (r"[]a]\$", r"[\]a]\$"),
    (r"\x{00A0}\p{Z}\d", r"\x{00A0}\p{Z}\d"),
])
def test_re2_patterns_become_java_patterns(re2, java):
    assert java_regex(re2) == java


def test_strftime_formats_become_java_patterns():
    assert java_datetime_pattern("%Y-%m-%dT%H:%M:%S") == "yyyy-M-d'T'H:m:s"
    assert java_datetime_pattern("%m/%d/%Y %%") == "M/d/yyyy %"


@pytest.mark.parametrize("sql", ["SELEC n FROM t", "SELECT nope FROM t", "SELECT n FROM missing_table"],
                         ids=["syntax", "unknown column", "unknown table"])
def test_both_engines_tell_a_wrong_statement_from_a_failure(duck, spark, sql):
    for engine in (duck, spark):
        engine.register("t", table())
        with pytest.raises(EngineError) as raised:
            engine.rows(sql)
        assert raised.value.statement_at_fault, (engine.name, raised.value)
