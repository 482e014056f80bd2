"""The generator's answer key: expected row and file outcomes, current state, the five answers."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

KEY_DIR_NAME = "_answer_key"

CLEAN_SCHEMA = pa.schema(
    [
        ("employee_id", pa.int64()),
        ("employee_name", pa.string()),
        ("college_degree", pa.string()),
        ("department", pa.string()),
        ("job_role", pa.string()),
        ("campus", pa.string()),
        ("email", pa.string()),
        ("phone", pa.string()),
        ("performance_rating", pa.int64()),
        ("submission_date", pa.timestamp("s")),
    ]
)
"""Canonical clean values of one answer, named as in the alumni contract."""

ROWS_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("line", pa.int64()),
        ("status", pa.string()),
        ("reason_code", pa.string()),
        *CLEAN_SCHEMA,
    ]
)

VALID, QUARANTINED, DUPLICATE = "valid", "quarantined", "duplicate"
# Dictionary-encoding many-valued columns (names, e-mails) and column statistics only cost
# time here: the key is read whole by tests.
_PARQUET_OPTIONS: dict[str, Any] = {
    "use_dictionary": [
        "file", "status", "reason_code", "college_degree", "department", "job_role", "campus",
    ],
    "write_statistics": False,
}


def current_state(rows: pa.Table, ingest_order: list[str]) -> pa.Table:
    """One row per employee: the latest valid answer, by submission date or else ingest time.

    A row without a submission date stands in with its file's ingest time; files are ingested
    in `ingest_order`, after every submission date, so such a row beats all earlier files.
    Rows keep their file order.
    """
    valid = np.flatnonzero(pc.equal(rows["status"], VALID).to_numpy())
    submitted = rows["submission_date"].cast(pa.int64())
    undated = pc.is_null(submitted).to_numpy()[valid]
    seconds = pc.fill_null(submitted, 0).to_numpy()[valid]
    file_rank = pc.index_in(rows["file"], value_set=pa.array(ingest_order)).to_numpy()[valid]
    latest_date = seconds[~undated].max(initial=0)
    effective_time = np.where(undated, latest_date + 1 + file_rank, seconds)
    employee_id = pc.fill_null(rows["employee_id"], 0).to_numpy()[valid]
    order = np.lexsort((effective_time, employee_id))
    by_employee = employee_id[order]
    last_of_employee = np.ones(len(order), bool)
    last_of_employee[:-1] = by_employee[1:] != by_employee[:-1]
    keep = np.zeros(rows.num_rows, bool)
    keep[valid[order[last_of_employee]]] = True
    return rows.filter(pa.array(keep)).select(["file", "line", *CLEAN_SCHEMA.names])


_GROUPS = ("college_degree", "campus", "department", "job_role")


def five_answers(current: pd.DataFrame, *, excellent_threshold: int, top_n: int) -> dict[str, Any]:
    """The report's five answers from the current state (averages rounded to 4 decimals).

    Orderings compare the rounded values shown, then the name, so the JSON is self-consistent.
    """
    # Categorical group columns make the groupbys fast; names are compared as text below.
    alumni = current.assign(
        excellent=current["performance_rating"] >= excellent_threshold,
        **{column: current[column].astype("category") for column in _GROUPS},
    )

    def per(column: str) -> pd.DataFrame:
        grouped = alumni.groupby(column, observed=True).agg(
            alumni=("employee_id", "size"),
            avg_rating=("performance_rating", "mean"),
            excellent=("excellent", "sum"),
        )
        grouped["avg_rating"] = grouped["avg_rating"].round(4)
        grouped["excellent_rate"] = (grouped["excellent"] / grouped["alumni"]).round(4)
        grouped = grouped.reset_index()
        grouped[column] = grouped[column].astype(str)
        return grouped

    def records(
        column: str, order: list[str], descending: list[bool], fields: list[str]
    ) -> list[dict]:
        ascending = [not d for d in descending]
        ordered = per(column).sort_values(order, ascending=ascending, kind="stable")
        return [{f: _plain(row[f]) for f in fields} for _, row in ordered.iterrows()]

    ranked = alumni.sort_values(
        ["performance_rating", "employee_id"], ascending=[False, True], kind="stable"
    )
    top = ranked.groupby("department", observed=True).head(top_n)
    top_fields = ["employee_id", "employee_name", "job_role", "campus", "performance_rating"]
    return {
        "alumni": len(alumni),
        "degrees": records(
            "college_degree", ["avg_rating", "college_degree"], [True, False],
            ["college_degree", "alumni", "avg_rating"],
        ),
        "campuses": records(
            "campus", ["excellent", "excellent_rate", "campus"], [True, True, False],
            ["campus", "alumni", "excellent", "excellent_rate", "avg_rating"],
        ),
        "departments": records(
            "department", ["alumni", "department"], [True, False],
            ["department", "alumni", "avg_rating", "excellent"],
        ),
        "job_roles": records(
            "job_role", ["alumni", "job_role"], [True, False], ["job_role", "alumni"]
        ),
        "top_employees": {
            department: [
                {f: _plain(v) for f, v in zip(top_fields, row, strict=True)}
                for row in top.loc[top["department"] == department, top_fields].itertuples(
                    index=False
                )
            ]
            for department in sorted(top["department"].astype(str).unique())
        },
    }


def _plain(value: Any) -> Any:
    """numpy scalars -> plain Python values, so json.dumps writes them as numbers."""
    return value.item() if hasattr(value, "item") else value


def _answer_frame(current: pa.Table) -> pd.DataFrame:
    """The columns the answers read; group columns dictionary-encoded for pandas categoricals."""
    columns = {
        name: current[name] for name in ("employee_id", "employee_name", "performance_rating")
    }
    columns.update({name: pc.dictionary_encode(current[name]) for name in _GROUPS})
    return pa.table(columns).to_pandas()


def write_answer_key(
    key_dir: Path,
    *,
    rows: pa.Table,
    files: list[dict[str, Any]],
    layouts: list[dict[str, Any]],
    excellent_threshold: int,
    top_n: int,
) -> int:
    """Write rows.parquet, files.json, layout.json, current.parquet and answers.json.

    Returns the number of employees in the current state.
    """
    key_dir.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=1) as writer:  # write while the answers are computed
        rows_written = writer.submit(
            pq.write_table, rows, key_dir / "rows.parquet", **_PARQUET_OPTIONS
        )
        current = current_state(rows, [f["file"] for f in files if f["status"] == "loaded"])
        current_written = writer.submit(
            pq.write_table, current, key_dir / "current.parquet", **_PARQUET_OPTIONS
        )
        answers = five_answers(
            _answer_frame(current), excellent_threshold=excellent_threshold, top_n=top_n
        )
        rows_written.result()
        current_written.result()
    documents = {"files.json": files, "layout.json": layouts, "answers.json": answers}
    for name, document in documents.items():
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        (key_dir / name).write_text(text, "utf-8")
    return current.num_rows
