"""normalize_header and match_header against the shipped alumni contract."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campuslake.config import load_settings
from campuslake.validate.headers import match_header, normalize_header

ALUMNI = load_settings().dataset("alumni")
COLUMNS = [c.name for c in ALUMNI.columns]
REQUIRED = [c.name for c in ALUMNI.columns if c.required]
OPTIONAL = [c.name for c in ALUMNI.columns if not c.required]


@pytest.mark.parametrize("raw, expected", [
    ("employee_id", "employee_id"),
    (" Employee ID", "employee_id"),
    ("employee id", "employee_id"),
    ("EMPLOYEE_NAME", "employee_name"),
    ("Submission Date", "submission_date"),
    ("\ufeffSubmission Date ", "submission_date"),
    ("employee-id", "employee_id"),
    ("Employee\u00a0ID", "employee_id"),
    ("  Job  Title\t", "job_title"),
    ("E-Mail", "e_mail"),
    ("Phone #", "phone"),
    ("__dept__", "dept"),
    ("", ""),
])
def test_normalize_header_lowercases_and_joins_words_with_one_underscore(raw: str, expected: str) -> None:
    assert normalize_header(raw) == expected


def test_contract_header_in_contract_order_matches_every_column() -> None:
    match = match_header(COLUMNS, ALUMNI)
    assert match.positions == {name: i for i, name in enumerate(COLUMNS)}
    assert (match.extra, match.missing_required, match.missing_optional, match.ambiguous) == ([], [], [], [])


def test_renamed_and_aliased_headers_in_another_order() -> None:
    header = ["Submission Date", "EMPLOYEE_NAME", "employee id", "Comments", "Degree", "Dept", "Job Title",
              "DMC Campus", "E-mail", "Mobile Number", "Rating"]
    match = match_header(header, ALUMNI)
    assert match.positions == {
        "submission_date": 0, "employee_name": 1, "employee_id": 2, "college_degree": 4, "department": 5,
        "job_role": 6, "campus": 7, "email": 8, "phone": 9, "performance_rating": 10}
    assert match.extra == ["Comments"]
    assert (match.missing_required, match.missing_optional, match.ambiguous) == ([], [], [])


def test_missing_required_and_optional_columns_are_listed_in_contract_order() -> None:
    header = ["rating", "full_name", "degree", "department", "role", "campus", "email"]
    match = match_header(header, ALUMNI)
    assert match.missing_required == ["employee_id"]
    assert match.missing_optional == ["phone", "submission_date"]


def test_two_headers_for_one_column_are_ambiguous_and_the_first_one_feeds_it() -> None:
    header = ["Employee ID", "name", "emp_id", "Full Name", "EMPLOYEE-ID", "email", "email"]
    match = match_header(header, ALUMNI)
    assert match.positions["employee_id"] == 0
    assert match.positions["employee_name"] == 1
    assert match.positions["email"] == 5
    assert match.ambiguous == ["emp_id", "Full Name", "EMPLOYEE-ID", "email"]


def test_empty_header_matches_nothing() -> None:
    match = match_header([], ALUMNI)
    assert match.positions == {} and match.extra == []
    assert match.missing_required == REQUIRED and match.missing_optional == OPTIONAL


# Ways exports spell one header name: case, separators, stray spaces, a BOM on the first cell.
STYLES = [str, str.upper, str.title, lambda s: s.replace("_", " "), lambda s: s.replace("_", "-").upper(),
          lambda s: " " + s.replace("_", " ").title() + " ", lambda s: "\ufeff" + s, lambda s: s.replace("_", "  ")]
EXTRAS = ["Comments", "Unnamed: 0", "column_12", "Notes (internal)", "Timestamp 2"]


@st.composite
def export_header(draw: st.DrawFn) -> tuple[list[str], dict[str, str], list[str]]:
    """(header, contract column -> its header cell, extras), for a random subset in random order."""
    chosen = draw(st.lists(st.sampled_from(COLUMNS), unique=True))
    cells = {}
    for name in chosen:
        spelling = draw(st.sampled_from(sorted(ALUMNI.column(name).aliases or [name])))
        cells[name] = draw(st.sampled_from(STYLES))(spelling)
    extras = draw(st.lists(st.sampled_from(EXTRAS), unique=True, max_size=3))
    header = draw(st.permutations([*cells.values(), *extras]))
    return header, cells, extras


@settings(max_examples=100, deadline=None)
@given(export_header())
def test_any_order_spelling_and_subset_is_matched_exactly(generated: tuple[list[str], dict[str, str], list[str]]) -> None:
    header, cells, extras = generated
    match = match_header(header, ALUMNI)
    assert match.positions == {name: header.index(cell) for name, cell in cells.items()}
    assert match.extra == [h for h in header if h in extras]
    assert match.missing_required == [c for c in REQUIRED if c not in cells]
    assert match.missing_optional == [c for c in OPTIONAL if c not in cells]
    assert match.ambiguous == []
