"""The synthetic alumni exports, checked by re-reading the files, not by trusting the generator."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
import tempfile
import unicodedata
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campuslake.config import load_settings
from campuslake.synth import generate_alumni
from campuslake.synth.names import FIRST_NAMES, LAST_NAMES
from campuslake.validate.headers import match_header
from campuslake.validate.reasons import FileReason, RowReason
from conftest import run_cli

SETTINGS = load_settings()
CONTRACT = SETTINGS.dataset("alumni")
HONORIFICS = set(SETTINGS.normalization.honorifics)
SUFFIXES = set(SETTINGS.normalization.suffixes)
NULL_TOKENS = {t.lower() for t in CONTRACT.null_tokens}
REQUIRED = [c.name for c in CONTRACT.columns if c.required]
VOCABULARY_COLUMNS = ("college_degree", "department", "job_role", "campus")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


# --- an independent reader and reference cleaner -------------------------------------------


def decode_export(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8")
    if data.startswith(codecs.BOM_UTF16_LE):
        return data[2:].decode("utf-16-le")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_records(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (physical start line, fields) of every record, via the csv module."""
    reader = csv.reader(io.StringIO(decode_export(path), newline=""))
    header = next(reader)
    records, start = [], reader.line_num + 1
    for fields in reader:
        records.append((start, fields))
        start = reader.line_num + 1
    return header, records


def collapse(text: str) -> str:
    return " ".join(text.split())


def is_null(cell: str) -> bool:
    return collapse(cell).lower() in NULL_TOKENS


def title_case(text: str) -> str:
    return re.sub(r"(^|[\s\-'])(\w)", lambda m: m.group(1) + m.group(2).upper(), text.lower())


def clean_name(raw: str) -> str:
    words = collapse(raw).split(" ")
    if words and words[0].rstrip(".").lower() in HONORIFICS:
        words = words[1:]
    if words and words[-1].replace(".", "").rstrip(",").lower() in SUFFIXES:
        words = words[:-1]
    if words:
        words[-1] = words[-1].rstrip(",")
    return title_case(" ".join(w for w in words if w))


def canonical(column: str, raw: str) -> str | None:
    """The contract value a vocabulary cell means, or None."""
    spec = CONTRACT.column(column)
    spellings = {v: v for v in spec.allowed or ()}
    for value, variants in (spec.canonical or {}).items():
        spellings.update({s: value for s in [value, *variants]})
    wanted = collapse(raw).casefold()
    return next((value for s, value in spellings.items() if s.casefold() == wanted), None)


def phone_digits(raw: str) -> str:
    return re.sub(r"\D", "", raw)[-10:]


def parse_timestamp(raw: str) -> datetime | None:
    for fmt in CONTRACT.column("submission_date").formats:
        try:
            return datetime.strptime(collapse(raw), fmt)
        except ValueError:
            pass
    return None


def cells_by_column(header: list[str], fields: list[str]) -> dict[str, str]:
    positions = match_header(header, CONTRACT).positions
    return {column: fields[i] for column, i in positions.items()}


def reference_clean(cells: dict[str, str]) -> dict[str, object]:
    """What a correct pipeline makes of a row's cells; raises ValueError naming the defect."""
    for column in REQUIRED:
        if is_null(cells[column]):
            raise ValueError(RowReason.MISSING_REQUIRED)
    id_text, rating_text = collapse(cells["employee_id"]), collapse(cells["performance_rating"])
    if not id_text.isdigit() or not rating_text.isdigit():
        raise ValueError(RowReason.BAD_TYPE)
    date_text = cells.get("submission_date", "")
    submitted = None if is_null(date_text) else parse_timestamp(date_text)
    if not is_null(date_text) and submitted is None:
        raise ValueError(RowReason.BAD_TYPE)
    if not 100_000 <= int(id_text) <= 999_999 or not 1 <= int(rating_text) <= 5:
        raise ValueError(RowReason.OUT_OF_RANGE)
    email = None if is_null(cells["email"]) else collapse(cells["email"]).lower()
    if email is not None and not EMAIL.fullmatch(email):
        raise ValueError(RowReason.BAD_EMAIL)
    phone = None if is_null(cells["phone"]) else phone_digits(cells["phone"])
    if phone is not None and not re.fullmatch(r"9\d{9}", phone):
        raise ValueError(RowReason.BAD_PHONE)
    vocabulary = {c: canonical(c, cells[c]) for c in VOCABULARY_COLUMNS}
    if None in vocabulary.values():
        raise ValueError(RowReason.UNKNOWN_VALUE)
    name = clean_name(cells["employee_name"])
    if not name:
        raise ValueError(RowReason.EMPTY_AFTER_NORMALIZATION)
    if any(unicodedata.category(ch) == "Cc" and not ch.isspace() for ch in cells["employee_name"]):
        raise ValueError(RowReason.CONTROL_CHARACTER)
    if "\n" in cells["employee_name"]:
        raise ValueError(RowReason.LINE_BREAK)
    return {
        "employee_id": int(id_text), "employee_name": name, **vocabulary, "email": email,
        "phone": None if phone is None else "+63" + phone, "performance_rating": int(rating_text),
        "submission_date": submitted,
    }


# --- fixtures ----------------------------------------------------------------------------


def load_key(out: Path) -> tuple[list[dict], list[dict]]:
    files = json.loads((out / "_answer_key" / "files.json").read_text("utf-8"))
    rows = pq.read_table(out / "_answer_key" / "rows.parquet").to_pylist()
    return files, rows


def parse_loaded(out: Path, files: list[dict]) -> dict[str, tuple[list[str], list]]:
    return {f["file"]: read_records(out / f["file"]) for f in files if f["status"] == "loaded"}


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("alumni")
    manifest = generate_alumni(out, rows=3000, files=8, seed=7)
    files, rows = load_key(out)
    return manifest, files, rows, parse_loaded(out, files)


def key_rows_by_file(rows: list[dict]) -> dict[str, list[dict]]:
    by_file = defaultdict(list)
    for row in rows:
        by_file[row["file"]].append(row)
    return by_file


# --- tests --------------------------------------------------------------------------------


def check_records_match_key(files: list[dict], rows: list[dict], parsed: dict) -> None:
    by_file = key_rows_by_file(rows)
    for entry in files:
        if entry["status"] != "loaded":
            continue
        _, records = parsed[entry["file"]]
        assert len(records) == entry["rows_in"] == len(by_file[entry["file"]])
        assert [line for line, _ in records] == [r["line"] for r in by_file[entry["file"]]]


def test_record_count_and_physical_start_lines_match_key(export):
    _, files, rows, parsed = export
    check_records_match_key(files, rows, parsed)
    assert any(r["line"] > i + 2 for i, r in enumerate(key_rows_by_file(rows)[files[4]["file"]]))


def check_rows_behave_as_keyed(rows: list[dict], parsed: dict) -> None:
    """Valid and duplicate rows clean to the key's values; quarantined ones fail as keyed."""
    by_file = key_rows_by_file(rows)
    for name, (header, records) in parsed.items():
        for (_, fields), key in zip(records, by_file[name], strict=True):
            if len(fields) != len(header):
                assert key["status"] == "quarantined"
                too_many = len(fields) > len(header)
                assert key["reason_code"] == (
                    RowReason.TOO_MANY_FIELDS if too_many else RowReason.TOO_FEW_FIELDS
                )
                continue
            if [" ".join(f.split()) for f in fields] == header:
                assert (key["status"], key["reason_code"]) == ("quarantined", RowReason.REPEATED_HEADER)
                continue
            cells = cells_by_column(header, fields)
            if key["status"] == "quarantined":
                with pytest.raises(ValueError) as failure:
                    reference_clean(cells)
                assert str(failure.value) == key["reason_code"], (name, key["line"], fields)
            else:
                clean = reference_clean(cells)
                expected = {column: key[column] for column in clean}
                assert clean == expected, (name, key["line"], fields)


def test_only_injected_defects_make_rows_invalid(export):
    _, _, rows, parsed = export
    check_rows_behave_as_keyed(rows, parsed)


def test_valid_names_clean_to_key_names_through_honorifics_and_suffixes(export):
    _, _, rows, parsed = export
    by_file = key_rows_by_file(rows)
    dressed = 0
    for name, (header, records) in parsed.items():
        position = match_header(header, CONTRACT).positions["employee_name"]
        for (_, fields), key in zip(records, by_file[name], strict=True):
            if key["status"] != "quarantined":
                raw = fields[position]
                assert clean_name(raw) == key["employee_name"]
                dressed += collapse(raw) != key["employee_name"]
    assert dressed > len(rows) / 3  # most names arrive messed up


def test_every_mess_kind_occurs_in_cells(export):
    _, _, _, parsed = export
    raw = defaultdict(list)
    for header, records in parsed.values():
        positions = match_header(header, CONTRACT).positions
        for _, fields in records:
            if len(fields) == len(header):
                for column, i in positions.items():
                    raw[column].append(fields[i])
    names = raw["employee_name"]
    assert any(n != n.strip() for n in names) and any("  " in n.strip() for n in names)
    assert any(re.match(r"\s*(dr|mr|mrs|ms)\.?\s", n, re.I) for n in names)
    assert any(re.search(r",\s*(jr|sr)\.?\s*$", n, re.I) for n in names)
    assert any(not n.isascii() for n in names)
    assert any(any(c in n for c in "-'") for n in names)
    roles = {collapse(r).lower() for r in raw["job_role"]}
    variants = {v for vs in CONTRACT.column("job_role").canonical.values() for v in vs}
    assert variants <= roles
    phones = raw["phone"]
    for pattern in (r"9\d{9}", r"09\d{9}", r"\+639\d{9}", r"639\d{9}", r"09\d\d \d{3} \d{4}",
                    r"09\d\d-\d{3}-\d{4}", r"\(09\d\d\) \d{3}\.\d{4}"):
        assert any(re.fullmatch(pattern, p.strip()) for p in phones), pattern
    assert any(e.strip() != e.strip().lower() for e in raw["email"])
    dates = [d for d in raw["submission_date"] if d.strip()]
    assert any(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", d.strip()) for d in dates)
    assert any(re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4} \d\d:\d\d:\d\d", d.strip()) for d in dates)


def test_file_level_variants_all_occur_within_eight_files(export):
    manifest, _, _, parsed = export
    raw = {name: (manifest.out_dir / name).read_bytes() for name in parsed}
    plain = {n: gzip.decompress(b) if b[:2] == b"\x1f\x8b" else b for n, b in raw.items()}
    assert any(n.endswith(".csv.gz") for n in raw)
    assert any(b.startswith(codecs.BOM_UTF8) for b in plain.values())
    assert any(b.startswith(codecs.BOM_UTF16_LE) for b in plain.values())
    assert any(_is_latin1_only(b) for b in plain.values())
    assert any(b"\r\n" in b for b in plain.values())
    assert plain["alumni_export_000.csv"] == raw["alumni_export_000.csv"]
    first = plain["alumni_export_000.csv"]
    assert b"\r" not in first and _is_utf8_without_bom(first)
    v1 = ["Employee_ID", "Employee_Name", "College_Degree", "Department", "Job_Role", "DMC_Campus",
          "Email", "Phone_Number", "Performance_Rating"]
    headers = [header for header, _ in parsed.values()]
    assert any("Notes" in h for h in headers)
    assert any(set(h) - {*v1, "Submission Date", "Notes"} for h in headers)  # renamed
    assert any([c for c in h if c in v1] != [c for c in v1 if c in h] for h in headers)  # reordered
    for header in headers:
        matched = match_header(header, CONTRACT)
        assert not matched.missing_required and not matched.ambiguous
        assert set(matched.extra) <= {"Notes"}
    # in some file a record spans two physical lines, so later records start further down
    assert any(records and records[-1][0] > len(records) + 1 for _, records in parsed.values())


def _is_latin1_only(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return not data.startswith(codecs.BOM_UTF16_LE)
    return False


def _is_utf8_without_bom(data: bytes) -> bool:
    data.decode("utf-8")
    return not data.startswith(codecs.BOM_UTF8)


def test_files_json_accounting_adds_up(export):
    manifest, files, rows, _ = export
    loaded = [f for f in files if f["status"] == "loaded"]
    for entry in files:
        outcomes = entry["rows_valid"] + entry["rows_quarantined"] + entry["rows_duplicate"]
        assert entry["rows_in"] == outcomes
        statuses = [r["status"] for r in rows if r["file"] == entry["file"]]
        assert statuses.count("valid") == entry["rows_valid"]
        assert statuses.count("quarantined") == entry["rows_quarantined"]
        assert statuses.count("duplicate") == entry["rows_duplicate"]
    assert sum(f["rows_in"] for f in loaded) == manifest.rows == 3000 == len(rows)
    assert sum(f["rows_quarantined"] for f in loaded) == manifest.rows_quarantined == 60
    assert sum(f["rows_duplicate"] for f in loaded) == manifest.rows_duplicate == 60
    assert {r["reason_code"] for r in rows if r["status"] == "quarantined"} == {
        str(reason) for reason in RowReason
        if reason not in (RowReason.PATTERN_MISMATCH, RowReason.UNCLOSED_QUOTE, RowReason.NOT_UTF8)
    }
    assert all(r["reason_code"] is None for r in rows if r["status"] != "quarantined")


def test_bad_files_are_keyed_as_rejected_with_their_reason(export):
    manifest, files, _, _ = export
    rejected = {f["file"]: f for f in files if f["status"] == "rejected"}
    assert {name: f["reason"] for name, f in rejected.items()} == {
        "alumni_export_empty.csv": FileReason.EMPTY_FILE,
        "alumni_export_binary.csv": FileReason.NOT_TEXT,
        "alumni_export_noid.csv": FileReason.MISSING_REQUIRED_COLUMNS,
    }
    assert (manifest.out_dir / "alumni_export_empty.csv").stat().st_size == 0
    assert b"\x00" in (manifest.out_dir / "alumni_export_binary.csv").read_bytes()
    header, records = read_records(manifest.out_dir / "alumni_export_noid.csv")
    assert match_header(header, CONTRACT).missing_required == ["employee_id"] and records
    assert set(manifest.rejected_files) == {manifest.out_dir / name for name in rejected}


def test_duplicates_clean_to_an_earlier_valid_row_of_the_same_file(export):
    _, _, rows, parsed = export
    by_file = key_rows_by_file(rows)
    for name, (header, records) in parsed.items():
        seen: dict[tuple, int] = {}
        for (line, fields), key in zip(records, by_file[name], strict=True):
            if key["status"] == "quarantined":
                continue
            clean = tuple(reference_clean(cells_by_column(header, fields)).items())
            if key["status"] == "duplicate":
                assert seen[clean] < line
            else:
                assert clean not in seen
                seen[clean] = line
        valid_ids = [k["employee_id"] for k in by_file[name] if k["status"] == "valid"]
        assert len(valid_ids) == len(set(valid_ids))


def test_current_is_each_employees_latest_answer(export):
    manifest, files, rows, _ = export
    file_order = [f["file"] for f in files]
    answers = defaultdict(list)
    for row in rows:
        if row["status"] == "valid":
            answers[row["employee_id"]].append(row)
    current = pq.read_table(manifest.answer_key_dir / "current.parquet").to_pylist()
    assert len(current) == len(answers) == manifest.alumni
    repeated = 0
    for row in current:
        history = sorted(answers[row["employee_id"]], key=lambda r: file_order.index(r["file"]))
        assert (row["file"], row["line"]) == (history[-1]["file"], history[-1]["line"])
        dated = [r["submission_date"] for r in history if r["submission_date"] is not None]
        if dated:  # once an answer has no date (ingest time wins), no dated answer follows
            assert all(r["submission_date"] is not None for r in history[: len(dated)])
        assert dated == sorted(set(dated))
        for before, after in zip(history, history[1:]):
            repeated += 1
            assert before["performance_rating"] != after["performance_rating"]
            assert before["employee_name"] == after["employee_name"]
    assert repeated >= 0.04 * 3000 * 7 / 8


def test_answers_json_agrees_with_current_state(export):
    manifest, _, _, _ = export
    current = pq.read_table(manifest.answer_key_dir / "current.parquet").to_pylist()
    answers = json.loads((manifest.answer_key_dir / "answers.json").read_text("utf-8"))
    assert list(answers) == [
        "alumni", "degrees", "campuses", "departments", "job_roles", "top_employees"
    ]
    assert answers["alumni"] == len(current)
    for group, column in (("degrees", "college_degree"), ("campuses", "campus"),
                          ("departments", "department"), ("job_roles", "job_role")):
        ratings = defaultdict(list)
        for row in current:
            ratings[row[column]].append(row["performance_rating"])
        for item in answers[group]:
            values = ratings[item[column]]
            assert item["alumni"] == len(values)
            if "avg_rating" in item:
                assert item["avg_rating"] == pytest.approx(sum(values) / len(values), abs=5e-5)
            if "excellent" in item:
                assert item["excellent"] == sum(v >= 5 for v in values)
        assert {item[column] for item in answers[group]} == set(ratings)
    degrees = answers["degrees"]
    assert degrees == sorted(degrees, key=lambda d: (-d["avg_rating"], d["college_degree"]))
    assert len({d["avg_rating"] for d in degrees}) > 3  # ratings are skewed by degree
    campuses = answers["campuses"]
    assert campuses == sorted(
        campuses, key=lambda c: (-c["excellent"], -c["excellent_rate"], c["campus"])
    )
    departments, roles = answers["departments"], answers["job_roles"]
    assert departments == sorted(departments, key=lambda d: (-d["alumni"], d["department"]))
    assert roles == sorted(roles, key=lambda j: (-j["alumni"], j["job_role"]))
    for department, top in answers["top_employees"].items():
        members = [r for r in current if r["department"] == department]
        best = sorted(members, key=lambda r: (-r["performance_rating"], r["employee_id"]))[:100]
        assert [t["employee_id"] for t in top] == [r["employee_id"] for r in best]


def test_vocabulary_comes_from_the_contract(export):
    _, _, rows, _ = export
    kept = [r for r in rows if r["status"] != "quarantined"]
    assert {r["college_degree"] for r in kept} == set(CONTRACT.column("college_degree").allowed)
    assert {r["department"] for r in kept} == set(CONTRACT.column("department").allowed)
    assert {r["campus"] for r in kept} == set(CONTRACT.column("campus").allowed)
    assert {r["job_role"] for r in kept} == set(CONTRACT.column("job_role").canonical)
    assert all(100_000 <= r["employee_id"] <= 999_999 for r in kept)
    assert all(re.fullmatch(r"\+639\d{9}", r["phone"]) for r in kept if r["phone"])
    emails = [r["email"] for r in kept if r["email"]]
    assert all(e == e.lower() and EMAIL.fullmatch(e) for e in emails)
    ids_by_email = defaultdict(set)
    for r in kept:
        ids_by_email[r["email"]].add(r["employee_id"])
    assert any(len(ids) > 1 for email, ids in ids_by_email.items() if email)  # shared addresses
    ids_by_name = defaultdict(set)
    for r in kept:
        ids_by_name[r["employee_name"]].add(r["employee_id"])
    assert any(len(ids) > 1 for ids in ids_by_name.values())  # namesakes


def test_built_in_names_are_canonical_and_plain_words():
    special = HONORIFICS | SUFFIXES | set(SETTINGS.normalization.acronyms)
    assert len(FIRST_NAMES) >= 150 and len(LAST_NAMES) >= 150
    for name in FIRST_NAMES + LAST_NAMES:
        assert title_case(name) == name
        assert not {w.lower() for w in re.split(r"[\s\-']", name)} & special
        assert len(name.upper()) == len(name)
    assert any(not n.isascii() for n in LAST_NAMES) and "O'Neil" in LAST_NAMES


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path):
    def snapshot(out: Path) -> dict[str, bytes]:
        files = sorted(p for p in out.rglob("*") if p.is_file())
        return {str(p.relative_to(out)): p.read_bytes() for p in files}

    outputs = []
    for folder, seed in (("a", 11), ("b", 11), ("c", 12)):
        generate_alumni(tmp_path / folder, rows=800, files=8, seed=seed)
        outputs.append(snapshot(tmp_path / folder))
    assert outputs[0] == outputs[1]
    assert outputs[0].keys() == outputs[2].keys()
    data_files = [n for n in outputs[0] if n.startswith("alumni_export_0")]
    assert all(outputs[0][n] != outputs[2][n] for n in data_files)


@pytest.mark.parametrize(
    ("schema", "expected"),
    [("v1", [False, False, False]), ("v2", [True, True, True]), ("mixed", [False, True, False])],
)
def test_schema_decides_which_files_carry_submission_dates(tmp_path, schema, expected):
    generate_alumni(
        tmp_path, rows=90, files=3, seed=1, schema=schema, file_mess=False, bad_files=False
    )
    headers = [read_records(tmp_path / f"alumni_export_{i:03d}.csv")[0] for i in range(3)]
    assert ["Submission Date" in h for h in headers] == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "_answer_key", "alumni_export_000.csv", "alumni_export_001.csv", "alumni_export_002.csv"
    ]


def test_regenerating_replaces_the_previous_exports_and_reports_progress(tmp_path):
    generate_alumni(tmp_path, rows=100, files=8, seed=1)
    calls = []
    manifest = generate_alumni(
        tmp_path, rows=100, files=2, seed=1, file_mess=False, progress=lambda *a: calls.append(a)
    )
    written = sorted(p.name for p in tmp_path.glob("alumni_export_*"))
    assert written == sorted(p.name for p in manifest.files)
    assert calls == [(50, 100), (100, 100)]


@pytest.mark.parametrize(("args", "says"), [
    # the v2 file cannot repeat the v1 file's people, so it needs people past the 900,000 ids
    (["--rows", "1000000", "--files", "2"], "ask for fewer rows, more files or --schema v2"),
    (["--rows", "100", "--bad-rate", "0.5", "--dup-rate", "0.5"], "must stay below 1"),
])
def test_arguments_the_generator_cannot_honour_exit_2_and_leave_no_exports(tmp_path, args, says):
    out = tmp_path / "exports"
    result = run_cli(tmp_path / "lake", "generate", "alumni", *args, "--out", str(out))
    assert result.code == 2 and says in result.stderr and "Traceback" not in result.stderr
    assert not list(out.glob("alumni_export_*"))


@settings(max_examples=12, deadline=None)
@given(
    rows=st.integers(0, 400), files=st.integers(1, 9), seed=st.integers(0, 2**32 - 1),
    bad_rate=st.floats(0, 0.3), dup_rate=st.floats(0, 0.3), repeat_rate=st.floats(0, 0.3),
)
def test_any_size_and_rates_keep_the_key_true_to_the_files(
    rows, files, seed, bad_rate, dup_rate, repeat_rate
):
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        generate_alumni(
            out, rows=rows, files=files, seed=seed, bad_rate=bad_rate, dup_rate=dup_rate,
            repeat_rate=repeat_rate,
        )
        files_json, key_rows = load_key(out)
        parsed = parse_loaded(out, files_json)
        assert sum(f["rows_in"] for f in files_json) == rows
        check_records_match_key(files_json, key_rows, parsed)
        check_rows_behave_as_keyed(key_rows, parsed)


@pytest.mark.slow
def test_a_million_rows_in_ten_files(tmp_path):
    manifest = generate_alumni(tmp_path, rows=1_000_000, files=10, seed=3)
    files = json.loads((manifest.answer_key_dir / "files.json").read_text("utf-8"))
    loaded = [f for f in files if f["status"] == "loaded"]
    assert len(loaded) == 10 and sum(f["rows_in"] for f in loaded) == manifest.rows == 1_000_000
    assert manifest.rows_valid + manifest.rows_quarantined + manifest.rows_duplicate == 1_000_000
    assert pq.read_metadata(manifest.answer_key_dir / "rows.parquet").num_rows == 1_000_000
    assert pq.read_metadata(manifest.answer_key_dir / "current.parquet").num_rows == manifest.alumni
