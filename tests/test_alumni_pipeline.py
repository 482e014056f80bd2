"""The alumni pipeline end to end (real CLI, DuckDB, Delta files), checked against the answer key."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import AnswerKey, curated, run_cli

CLEAN_COLUMNS = ["employee_id", "employee_name", "college_degree", "department", "job_role", "campus",
                 "email", "phone", "performance_rating", "submission_date"]
LINEAGE = ["_batch_id", "_source_file", "_source_line", "_ingested_at"]


def _by_file_line(rows: list[dict[str, Any]], file_key: str, line_key: str) -> dict[tuple[str, int], dict]:
    return {(r[file_key], r[line_key]): r for r in rows}


def test_every_batch_is_accounted_for_as_the_answer_key_says(loaded_lake, messy_exports):
    _lake, result = loaded_lake
    _files, key = messy_exports
    got = {b["file"]: b for b in result["batches"]}
    expected = {f["file"]: f for f in key.files}
    assert set(got) == set(expected)
    for name, want in expected.items():
        batch = got[name]
        assert batch["rows_in"] == batch["rows_valid"] + batch["rows_quarantined"] + batch["rows_duplicate"]
        for field in ("status", "reason", "rows_in", "rows_valid", "rows_quarantined", "rows_duplicate"):
            assert batch[field] == want[field], f"{name}: {field}"


def test_curated_rows_are_the_answer_keys_clean_rows_with_lineage(loaded_lake, messy_exports):
    lake, _ = loaded_lake
    _files, key = messy_exports
    expected_rows = key.rows.filter(pc.equal(key.rows["status"], "valid")).to_pylist()
    expected = _by_file_line(expected_rows, "file", "line")
    alumni = curated(lake, "alumni")
    assert alumni.column_names == CLEAN_COLUMNS + LINEAGE
    got = _by_file_line(alumni.to_pylist(), "_source_file", "_source_line")
    assert got.keys() == expected.keys()
    for origin, row in got.items():
        want = expected[origin]
        for column in CLEAN_COLUMNS:
            assert row[column] == want[column], f"{origin} {column}"
        assert row["_batch_id"] and row["_ingested_at"] is not None


def test_cleaned_values_keep_no_mess(loaded_lake):
    lake, _ = loaded_lake
    from campuslake.config import load_settings

    settings = load_settings()
    contract = settings.dataset("alumni")
    rows = curated(lake, "alumni").to_pylist()
    assert rows
    honorific = re.compile(rf"^({'|'.join(settings.normalization.honorifics)})\.?\s", re.I)
    suffix = re.compile(rf"[\s,]({'|'.join(settings.normalization.suffixes)})\.?$", re.I)
    roles = set(contract.column("job_role").canonical)
    for row in rows:
        for column in ("employee_name", "college_degree", "department", "job_role", "campus", "email", "phone"):
            value = row[column]
            if value is not None:
                assert value == value.strip() and "  " not in value, (column, value)
        assert not honorific.search(row["employee_name"]) and not suffix.search(row["employee_name"])
        assert row["job_role"] in roles
        assert row["department"] in contract.column("department").allowed
        assert row["phone"] is None or re.fullmatch(r"\+639\d{9}", row["phone"]), row["phone"]
        assert row["email"] is None or row["email"] == row["email"].lower()


def test_every_quarantined_row_is_retrievable_with_reason_and_origin(loaded_lake, messy_exports):
    lake, result = loaded_lake
    _files, key = messy_exports
    batch_of = {b["file"]: b["batch_id"] for b in result["batches"]}
    expected = key.rows.filter(pc.equal(key.rows["status"], "quarantined")).to_pylist()
    assert expected, "the generated data must contain bad rows"
    stored: dict[tuple[str, int], dict] = {}
    for path in (lake / "quarantine" / "alumni" / "rows").rglob("*.parquet"):
        stored |= _by_file_line(pq.read_table(path).to_pylist(), "_source_file", "_source_line")
    assert len(stored) == len(expected)
    for want in expected:
        row = stored[(want["file"], want["line"])]
        codes = row["_reason_codes"].split(";")
        assert want["reason_code"] in codes, (want["file"], want["line"], codes)
        assert row["_batch_id"] == batch_of[want["file"]]
        assert row["_raw_line"] and row["_reason"]
        assert all(r["message"] for r in row["_reasons"])


def test_quarantine_export_gives_original_columns_plus_reasons(loaded_lake, messy_exports, tmp_path):
    lake, result = loaded_lake
    _files, key = messy_exports
    listed = run_cli(lake, "quarantine", "list", "--json").json()
    rows_entry = next(e for e in listed if e["kind"] == "rows")
    out = tmp_path / "fix.csv"
    run_cli(lake, "quarantine", "export", rows_entry["batch_id"], "--out", str(out), check=True)
    with out.open(newline="", encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    layout = next(entry for entry in key.layouts if entry["file"] == rows_entry["file"])
    assert list(exported[0])[: len(layout["header"])] == layout["header"]
    assert len(exported) == rows_entry["rows"]
    assert all(r["campuslake_reason_codes"] and r["campuslake_reason"] for r in exported)
    assert all(r["campuslake_origin"].startswith(rows_entry["batch_id"] + ":") for r in exported)


def test_rejected_files_are_kept_byte_for_byte_with_their_reason(loaded_lake, messy_exports):
    lake, _ = loaded_lake
    files, key = messy_exports
    listed = {e["file"]: e for e in run_cli(lake, "quarantine", "list", "--json").json() if e["kind"] == "file"}
    rejected = [f for f in key.files if f["status"] == "rejected"]
    assert {f["file"] for f in rejected} == set(listed)
    for entry in rejected:
        kept = lake / "quarantine" / "alumni" / "files"
        matches = list(kept.glob(f"*/{entry['file']}"))
        assert len(matches) == 1
        original = next(f for f in files if f.name == entry["file"])
        assert matches[0].read_bytes() == original.read_bytes()
        assert listed[entry["file"]]["reasons"] == {entry["reason"]: 1}
        assert listed[entry["file"]]["message"]


def test_current_and_the_five_answers_match_the_answer_key(loaded_lake, messy_exports):
    lake, _ = loaded_lake
    _files, key = messy_exports
    current = {r["employee_id"]: r for r in curated(lake, "alumni_current").to_pylist()}
    expected = {r["employee_id"]: r for r in key.current.to_pylist()}
    assert current.keys() == expected.keys()
    for employee_id, want in expected.items():
        assert {c: current[employee_id][c] for c in CLEAN_COLUMNS} == {c: want[c] for c in CLEAN_COLUMNS}
    answers = run_cli(lake, "report", "alumni", "--json").json()
    _assert_same_answers(answers, key.answers)


def _assert_same_answers(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert got["alumni"] == want["alumni"]
    for section in ("degrees", "campuses", "departments", "job_roles"):
        assert len(got[section]) == len(want[section]), section
        for g, w in zip(got[section], want[section], strict=True):
            assert g.keys() == w.keys()
            for field, value in w.items():
                assert g[field] == (pytest.approx(value, abs=1e-4) if isinstance(value, float) else value)
    assert got["top_employees"] == want["top_employees"]


def test_query_returns_rows_and_refuses_writes(loaded_lake):
    lake, _ = loaded_lake
    rows = run_cli(lake, "query", "select count(*) as n from alumni_current", "--json").json()
    assert rows == [{"n": curated(lake, "alumni_current").num_rows}]
    views = run_cli(lake, "query", "select * from answer_top_employees limit 3", "--json").json()
    assert [r["rank"] for r in views] == [1, 2, 3]
    # a query that is wrong is the caller's mistake: exit 2, with the engine's word on it
    refused = run_cli(lake, "query", "delete from alumni")
    assert refused.code == 2 and "read-only" in refused.stderr
    typo = run_cli(lake, "query", "selec 1")
    assert typo.code == 2 and "syntax error" in typo.stderr and "selec 1" in typo.stderr
    unknown = run_cli(lake, "query", "select employee_nme from alumni")
    assert unknown.code == 2 and '"employee_nme" not found' in unknown.stderr and "employee_name" in unknown.stderr
    outside = run_cli(lake, "query", "select * from read_csv('/etc/hostname')")
    assert outside.code == 2 and "disabled" in outside.stderr
    # the curated tables' files stay readable through their views, and only they
    raw_file = next((lake / "raw").rglob("*.parquet"))
    other = run_cli(lake, "query", f"select count(*) from read_parquet('{raw_file}')")
    assert other.code == 2 and "disabled" in other.stderr


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_tables_show_every_batch_and_reason_whole(loaded_lake):
    """Off a terminal (a log, a pipe) each row is one line; on a narrow terminal ids and reason
    codes are never cut, and short tables keep to the terminal's width."""
    lake, _ = loaded_lake
    batches = run_cli(lake, "batches", "--json").json()
    entries = run_cli(lake, "quarantine", "list", "--json").json()
    departments = run_cli(lake, "report", "alumni", "--json").json()["departments"]
    assert len(batches) > 3 and any(b["reason"] for b in batches)
    logged = run_cli(lake, "batches", check=True).stdout.splitlines()
    for batch in batches:
        assert any(batch["batch_id"] in line and batch["file_name"] in line and batch["status"] in line
                   and (batch["reason"] or "") in line for line in logged), batch
    for columns in ("80", "100"):
        narrow = {"TTY_COMPATIBLE": "1", "COLUMNS": columns, "NO_COLOR": "1"}
        listed = _ANSI.sub("", run_cli(lake, "quarantine", "list", env=narrow, check=True).stdout)
        for entry in entries:
            assert entry["batch_id"] in listed and entry["file"] in listed
            for code, count in entry["reasons"].items():
                assert re.search(rf"\b{code} {count}\b", listed), (code, count)
        report = _ANSI.sub("", run_cli(lake, "report", "alumni", env=narrow, check=True).stdout)
        assert max(map(len, report.splitlines())) <= int(columns)
        for department in departments:
            assert re.search(rf"│ {re.escape(department['department'])} +│ +{department['alumni']} │", report)
    # values are shown as they are, never read as Rich markup
    assert "[b]R&D[/b]" in run_cli(lake, "query", "select '[b]R&D[/b]' as department", check=True).stdout


def test_the_quarantine_list_says_what_to_do(loaded_lake):
    """Under the table: for each row reason present, what to change; for each rejected file, why
    and what to do. One line each off a terminal."""
    from campuslake.validate.reasons import ROW_ADVICE

    lake, _ = loaded_lake
    entries = run_cli(lake, "quarantine", "list", "--json").json()
    listed = run_cli(lake, "quarantine", "list", check=True).stdout.splitlines()
    codes = {code for e in entries if e["kind"] == "rows" for code in e["reasons"]}
    assert len(codes) > 5
    for code in codes:
        assert f"  {code}: {ROW_ADVICE[code]}" in listed
    files = [e for e in entries if e["kind"] == "file"]
    assert files and all(f"{e['file']} ({e['batch_id']}): {e['message']}" in listed for e in files)
    assert all(re.search(r"[:;] (export|add|copy)", e["message"]) for e in files), [e["message"] for e in files]


def test_reingesting_and_rerunning_change_nothing(loaded_lake, messy_exports):
    lake, _ = loaded_lake
    files, _key = messy_exports
    versions = {t: _delta_version(lake, t) for t in ("alumni", "alumni_current")}
    snapshot = _tree_digest(lake)
    again = run_cli(lake, "ingest", "alumni", *map(str, files), "--json").json()
    assert {r["status"] for r in again} == {"duplicate"}
    assert run_cli(lake, "run", "--json").json()["batches"] == []
    assert {t: _delta_version(lake, t) for t in versions} == versions
    assert _tree_digest(lake) == snapshot


def test_archive_holds_each_file_once_and_landing_is_empty(loaded_lake, messy_exports):
    lake, _ = loaded_lake
    files, _key = messy_exports
    archived = [p.name for p in (lake / "archive").rglob("*") if p.is_file()]
    assert sorted(archived) == sorted({hashlib.sha256(f.read_bytes()).hexdigest() for f in files})
    assert not any(p.is_file() for p in (lake / "landing").rglob("*"))


def test_usage_errors_exit_2_and_say_what_is_wrong(tmp_path):
    unknown = run_cli(tmp_path / "lake", "ingest", "alumnni", str(tmp_path))
    assert unknown.code == 2 and "did you mean 'alumni'" in unknown.stderr
    missing = run_cli(tmp_path / "lake", "ingest", "alumni", str(tmp_path / "nope.csv"))
    assert missing.code == 2 and "nope.csv" in missing.stderr
    bad_config = tmp_path / "bad.yaml"
    bad_config.write_text("datasets: [unclosed\n")
    broken = run_cli(tmp_path / "lake", "--config", str(bad_config), "batches")
    assert broken.code == 1 and "bad.yaml" in broken.stderr and "line" in broken.stderr


def test_a_new_lake_says_what_to_do_first(tmp_path):
    lake = tmp_path / "lake"
    early = run_cli(lake, "query", "SELECT count(*) FROM alumni_current")
    assert early.code == 2 and "alumni_current not written yet" in early.stderr and "campuslake run" in early.stderr
    typo = run_cli(lake, "query", "SELECT count(*) FROM alumnii")
    assert typo.code == 2 and "not written yet" not in typo.stderr  # no hint for a table no one declared
    assert run_cli(lake, "batches", check=True).stdout.startswith("no batches yet: land files with `campuslake ingest")
    assert run_cli(lake, "quarantine", "list", check=True).stdout.strip() == "nothing in quarantine"


def _delta_version(lake: Path, table: str) -> int:
    from deltalake import DeltaTable

    return DeltaTable(str(lake / "curated" / table)).version()


def _tree_digest(lake: Path) -> dict[str, str]:
    """Every data file in the lake and its hash (the catalog database is left out: it logs arrivals)."""
    return {str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(lake.rglob("*")) if p.is_file() and "_catalog" not in p.parts}


HEADER = "Employee_ID,Employee_Name,College_Degree,Department,Job_Role,DMC_Campus,Email,Phone_Number,Performance_Rating"
ROW = "123456,Ana Cruz,BS Nursing,HR,HR Specialist,DMC Main,ana@example.com,09171234567,4"


@pytest.mark.parametrize(("header", "reason"), [
    (HEADER + ",E-mail", "duplicate_columns"),
    (HEADER.replace("Employee_ID,", ""), "missing_required_columns"),
])
def test_a_file_whose_header_cannot_be_mapped_is_rejected_with_the_reason(tmp_path, header, reason):
    source = tmp_path / "export.csv"
    source.write_text(f"{header}\n{ROW}\n", encoding="utf-8")
    lake = tmp_path / "lake"
    run_cli(lake, "ingest", "alumni", str(source), check=True)
    [batch] = run_cli(lake, "run", "--json").json()["batches"]
    assert (batch["status"], batch["reason"]) == ("rejected", reason)
    assert "line 1" in batch["message"]


def test_extra_columns_are_kept_in_raw_and_reported(tmp_path):
    source = tmp_path / "export.csv"
    source.write_text(f"{HEADER},Notes\n{ROW},called twice\n", encoding="utf-8")
    lake = tmp_path / "lake"
    run_cli(lake, "ingest", "alumni", str(source), check=True)
    [batch] = run_cli(lake, "run", "--json").json()["batches"]
    assert batch["rows_valid"] == 1 and batch["warnings"] == ["extra columns kept in raw only: Notes"]
    [raw] = (lake / "raw" / "alumni").rglob("*.parquet")
    raw_rows = pq.read_table(raw).to_pylist()
    assert [(r["Notes"], r["_source_file"], r["_source_line"], r["_batch_id"]) for r in raw_rows] == [
        ("called twice", "export.csv", 2, batch["batch_id"])]


def test_control_characters_in_text_are_quarantined_and_spaces_are_not(tmp_path):
    """A NUL or a C1 control in a name (a tool's stray byte, or Windows-1252's undefined bytes
    read as Latin-1) is quarantined with its column; a vertical tab is a space, collapsed like
    any other; an escape in an e-mail or a rating makes a bad address or number already. (A
    NUL in the file's first 64 KiB makes it binary, as git judges files: the rows come after.)"""
    fields = ROW.split(",")
    ordinary = [",".join([str(200000 + i), *fields[1:]]) for i in range(800)]
    rows = {
        "nul in name": [fields[0], "An\x00a Cruz", *fields[2:]],
        "escape in e-mail": [*fields[:6], "ana\x1b@example.edu", *fields[7:]],
        "c1 in name": [fields[0], "Ana \x91Cruz\x92", *fields[2:]],
        "vertical tab in name": [fields[0], "Ana\x0bCruz", *fields[2:]],
        "escape in rating": [*fields[:8], "4\x1b"],
    }
    source = tmp_path / "export.csv"
    source.write_text("\n".join([HEADER, *ordinary, *(",".join(r) for r in rows.values())]) + "\n",
                      encoding="utf-8")
    lake = tmp_path / "lake"
    run_cli(lake, "ingest", "alumni", str(source), check=True)
    [batch] = run_cli(lake, "run", "--json").json()["batches"]
    assert (batch["rows_in"], batch["rows_valid"], batch["rows_quarantined"]) == (805, 801, 4)
    entry = run_cli(lake, "quarantine", "list", "--json").json()[0]
    assert entry["reasons"] == {"control_character": 2, "bad_email": 1, "bad_type": 1}
    quarantined = pq.read_table(next((lake / "quarantine").rglob("rows.parquet"))).to_pylist()
    by_line = {r["_source_line"]: [(x["code"], x["column"]) for x in r["_reasons"]] for r in quarantined}
    assert by_line == {802: [("control_character", "employee_name")], 803: [("bad_email", "email")],
                       804: [("control_character", "employee_name")], 806: [("bad_type", "performance_rating")]}
    kept = [r for r in curated(lake, "alumni").to_pylist() if r["_source_line"] > 801]
    assert [(r["_source_line"], r["employee_name"]) for r in kept] == [(805, "Ana Cruz")]


def test_a_rejected_values_message_names_what_would_be_accepted(tmp_path):
    """A bad date's message shows the forms the contract reads and an unknown word's the allowed
    words; written as shown, each is accepted (so the message is one a person can act on)."""
    header = f"{HEADER},Submission Date"
    fields = f"{ROW},2024-03-01".split(",")
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([header, ",".join([*fields[:9], "2024/03/01"]),
                              ",".join([fields[0], *fields[1:3], "Legal", *fields[4:]])]) + "\n", encoding="utf-8")
    lake = tmp_path / "lake"
    run_cli(lake, "ingest", "alumni", str(bad), check=True)
    [batch] = run_cli(lake, "run", "--json").json()["batches"]
    exported = tmp_path / "exported.csv"
    run_cli(lake, "quarantine", "export", batch["batch_id"], "--out", str(exported), check=True)
    with exported.open(encoding="utf-8", newline="") as handle:
        message = {row["campuslake_reason_codes"]: row["campuslake_reason"] for row in csv.DictReader(handle)}
    assert message["bad_type"].startswith("submission_date: '2024/03/01' is not a date/time written like ")
    assert message["unknown_value"].startswith("department: 'Legal' is not allowed: use one of: ")
    forms = message["bad_type"].split(" written like ")[1].replace(" or ", ", ").split(", ")
    departments = message["unknown_value"].split("one of: ")[1].split(", ")
    assert len(forms) >= 5 and "HR" in departments and len(departments) == 7

    rows = [",".join([str(300000 + i), *fields[1:9], form]) for i, form in enumerate(forms)]
    rows += [",".join([str(400000 + i), *fields[1:3], name, *fields[4:]]) for i, name in enumerate(departments)]
    shown = tmp_path / "as_shown.csv"
    shown.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    run_cli(lake, "ingest", "alumni", str(shown), check=True)
    [batch] = run_cli(lake, "run", "--json").json()["batches"]
    assert (batch["rows_valid"], batch["rows_quarantined"]) == (len(rows), 0)
    loaded = [r for r in curated(lake, "alumni").to_pylist() if r["_source_file"] == "as_shown.csv"]
    assert {r["submission_date"].date().isoformat() for r in loaded} == {"2024-03-01"}
    assert sorted(r["department"] for r in loaded if r["employee_id"] >= 400000) == sorted(departments)


def test_a_stray_quote_costs_its_own_row_only(tmp_path):
    """A quote that opens a field and never closes would make the rest of the export one value
    (csv's reading): its line is quarantined with the reason, and every row after it is read.
    A record that runs over several lines inside quotes and has the wrong width says so."""
    fields = ROW.split(",")
    rows = [",".join([str(200000 + i), *fields[1:]]) for i in range(1, 61)]
    rows[30] = ",".join([rows[30].split(",")[0], '"' + fields[1], *fields[2:]])  # line 32
    stray = tmp_path / "stray.csv"
    stray.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    wide = tmp_path / "wide.csv"
    wide.write_text(f'{HEADER}\n{ROW}\n200070,"Ana\nCruz",{",".join(fields[2:])},extra\n', encoding="utf-8")
    lake = tmp_path / "lake"
    run_cli(lake, "ingest", "alumni", str(stray), str(wide), check=True)
    batches = {b["file"]: b for b in run_cli(lake, "run", "--json").json()["batches"]}
    counts = {f: (b["rows_in"], b["rows_valid"], b["rows_quarantined"]) for f, b in batches.items()}
    assert counts == {"stray.csv": (60, 59, 1), "wide.csv": (2, 1, 1)}
    files = (lake / "quarantine").rglob("rows.parquet")
    quarantined = {r["_source_file"]: r for path in files for r in pq.read_table(path).to_pylist()}
    stray_row, wide_row = quarantined["stray.csv"], quarantined["wide.csv"]
    assert (stray_row["_source_line"], stray_row["_reason_codes"]) == (32, "unclosed_quote")
    assert stray_row["_raw_line"] == rows[30] and "field 2 does not close" in stray_row["_reason"]
    assert (wide_row["_source_line"], wide_row["_reason_codes"]) == (3, "too_many_fields")
    assert "runs over several lines inside quotes" in wide_row["_reason"]
    loaded = sorted(r["employee_id"] for r in curated(lake, "alumni").to_pylist() if r["_source_file"] == "stray.csv")
    assert loaded == [200000 + i for i in range(1, 61) if i != 31]


def test_rows_a_stray_quote_reads_into_a_name_are_not_loaded_as_one(tmp_path):
    """A stray quote that a later quoted name closes makes the lines between them one record of
    the right width (csv's reading): its name holds line breaks, so it is quarantined saying
    where the value runs, not loaded with nine answers in one name. A name written over two
    lines, quoted, is quarantined the same way; a note may hold line breaks."""
    fields = ROW.split(",")
    rows = [",".join([str(200000 + i), *fields[1:]]) for i in range(1, 101)]
    rows[50] = ",".join([str(200051), '"' + fields[1], *fields[2:]])  # line 52
    rows[59] = ",".join([str(200060), '"Juan ""JJ"" Cruz"', *fields[2:]])  # line 61
    rows[79] = ",".join([str(200080), '"Ana\nCruz"', *fields[2:]])  # lines 81-82
    export = tmp_path / "export.csv"
    export.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    lake = tmp_path / "lake"
    run_cli(lake, "ingest", "alumni", str(export), check=True)
    [batch] = run_cli(lake, "run", "--json").json()["batches"]
    assert (batch["rows_in"], batch["rows_valid"], batch["rows_quarantined"]) == (91, 89, 2)
    quarantined = pq.read_table(next((lake / "quarantine").rglob("rows.parquet"))).to_pylist()
    assert [(r["_source_line"], r["_reason_codes"]) for r in quarantined] == [(52, "line_break"), (81, "line_break")]
    assert "runs from line 52 to line 61" in quarantined[0]["_reason"]
    assert "runs from line 81 to line 82" in quarantined[1]["_reason"]
    assert not any("\n" in r["employee_name"] or "," in r["employee_name"] for r in curated(lake, "alumni").to_pylist())


def test_a_column_declared_multiline_keeps_its_line_breaks(tmp_path):
    from campuslake.config import default_config_text

    name_column = "      - name: employee_name\n"
    config = tmp_path / "campuslake.yaml"
    config.write_text(default_config_text().replace(name_column, (
        "      - name: note\n        aliases: [notes]\n        type: string\n        multiline: true\n"
        + name_column), 1))
    export = tmp_path / "export.csv"
    two_line_name = ROW.replace("123456,Ana Cruz", '123457,"Ana\nCruz"')
    export.write_text(f'{HEADER},Notes\n{ROW},"moved, then\nreturned"\n{two_line_name},one line\n', encoding="utf-8")
    lake = tmp_path / "lake"
    run_cli(lake, "--config", str(config), "ingest", "alumni", str(export), check=True)
    [batch] = run_cli(lake, "--config", str(config), "run", "--json").json()["batches"]
    assert (batch["rows_valid"], batch["rows_quarantined"]) == (1, 1)
    [kept] = curated(lake, "alumni").to_pylist()
    assert kept["note"] == "moved, then returned"  # the whitespace rule still collapses it
    [bad] = pq.read_table(next((lake / "quarantine").rglob("rows.parquet"))).to_pylist()
    assert (bad["_source_line"], bad["_reason_codes"]) == (4, "line_break")


def test_a_line_in_another_encoding_costs_its_own_row_only(tmp_path):
    """A UTF-8 export with one line typed in a Latin-1 tool: every other name keeps its accents
    (the file is not read as Windows-1252 because of one line), the faulty row is quarantined
    with its column, and the batch says why."""
    fields = ROW.split(",")
    rows = [",".join([str(200000 + i), "José Peña", *fields[2:]]) for i in range(1, 200)]
    export = tmp_path / "export.csv"
    export.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode("utf-8")
                       + ",".join(["200200", "Nuñez Cruz", *fields[2:]]).encode("latin-1") + b"\n")
    lake = tmp_path / "lake"
    run_cli(lake, "ingest", "alumni", str(export), check=True)
    [batch] = run_cli(lake, "run", "--json").json()["batches"]
    assert (batch["rows_in"], batch["rows_valid"], batch["rows_quarantined"]) == (200, 199, 1)
    assert any("not_utf8" in warning for warning in batch["warnings"])
    assert {r["employee_name"] for r in curated(lake, "alumni").to_pylist()} == {"José Peña"}
    [bad] = pq.read_table(next((lake / "quarantine").rglob("rows.parquet"))).to_pylist()
    assert (bad["_source_line"], [(r["code"], r["column"]) for r in bad["_reasons"]]) == (
        201, [("not_utf8", "employee_name")])
