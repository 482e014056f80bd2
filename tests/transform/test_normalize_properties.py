"""Property tests for the SQL normalizers, run for real through the DuckDB engine.

Each property evaluates a whole generated list in one query, so hypothesis explores many
values per round trip; references are written in plain Python, independently of the SQL.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from functools import cache

import phonenumbers
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from campuslake.config import load_settings
from campuslake.engines import Engine, get_engine
from campuslake.sqltext import sql_literal
from campuslake.transform import normalize as rules

SETTINGS = load_settings()
CONFIG = SETTINGS.normalization
ALUMNI = SETTINGS.dataset("alumni")
NAME_RULES = ALUMNI.column("employee_name").normalize
HONORIFICS = {h.lower() for h in CONFIG.honorifics}
SUFFIXES = {s.lower() for s in CONFIG.suffixes}
ACRONYMS = {a.lower() for a in CONFIG.acronyms}

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _cased_letters() -> str:
    # Letters whose upper/lower case is one character both ways (no ß, ŉ, dotted İ ...):
    # DuckDB and Python agree on them, so a mismatch is the rule's fault, not Unicode's. Sigma is
    # left out: Python lower-cases it to the final form at a word's end, SQL engines do not.
    codes = [*range(0x41, 0x5B), *range(0x61, 0x7B), *range(0xC0, 0x250), *range(0x391, 0x3CA),
             *range(0x410, 0x450)]
    letters = []
    for ch in map(chr, codes):
        if unicodedata.category(ch) not in ("Lu", "Ll") or ch in "Σσς":
            continue
        # ...and that have both cases in Python's (older) Unicode tables: ƛ gained an upper case
        # in Unicode 16, which Arrow knows and Python 3.11 does not.
        if len(ch.upper()) == len(ch.lower()) == 1 and ch.upper() != ch.lower() \
                and ch.upper().lower() == ch.lower() and ch.lower().upper() == ch.upper():
            letters.append(ch)
    return "".join(letters)


LETTERS = _cased_letters()
# Python's idea of whitespace (str.isspace) plus the BOM that exports leave behind.
SPACES = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2003\u2007\u2009\u200a" \
         "\u2028\u2029\u202f\u205f\u3000\ufeff"
assert all(ch.isspace() or ch == "\ufeff" for ch in SPACES)


@cache
def _engine() -> Engine:
    return get_engine(threads=1)


def evaluate(build: Callable[[str], str], values: list[str | None]) -> list[object]:
    """`build(column)` over every value, in one query; results in input order."""
    engine = _engine()
    engine.register("inputs", pa.table({"i": pa.array(range(len(values)), pa.int64()),
                                        "v": pa.array(values, pa.string())}))
    try:
        rows = engine.rows(f"SELECT i, {build('v')} AS out FROM inputs ORDER BY i")
    finally:
        engine.unregister("inputs")
    return [row["out"] for row in rows]


def _is_space(ch: str) -> bool:
    return ch.isspace() or ch == "\ufeff"


def _reference_collapse(value: str) -> str | None:
    return " ".join("".join(" " if _is_space(ch) else ch for ch in value).split()) or None


def as_read(values: list[str]) -> list[str | None]:
    """The values as the reader hands a contract column to the rules: spaces trimmed and
    collapsed (campuslake.ingest.csv_split, tested against this reference in tests/ingest)."""
    return [_reference_collapse(v) for v in values]


def _mixed_case(draw: st.DrawFn, text: str) -> str:
    # One integer per text rather than a boolean per letter: generation stays cheap.
    flips = draw(st.integers(0, 2**32 - 1))
    return "".join(ch.upper() if flips >> (i % 32) & 1 else ch.lower() for i, ch in enumerate(text))


# --- person names ---------------------------------------------------------------------------

def _reference_title(name: str) -> str:
    """Title case as a person expects it: every part after a space, '-' or "'" capitalized."""
    def word(w: str) -> str:
        if w.lower() in ACRONYMS:
            return w.upper()
        return "-".join("'".join(p[:1].upper() + p[1:].lower() for p in h.split("'")) for h in w.split("-"))

    return " ".join(word(w) for w in name.split(" "))


_ACRONYM_INSIDE = re.compile(r"(?<![a-z0-9_])(?:" + "|".join(map(re.escape, sorted(ACRONYMS))) + r")(?![a-z0-9_])")


def _is_reserved(word: str) -> bool:
    """Words a name generator must not produce: titles, suffixes, and acronyms inside a word.

    Whether `Mary-Ui` keeps `Ui` is not part of the contract; `Itō` is (tested on its own below).
    """
    lowered = word.lower()
    inside = lowered not in ACRONYMS and _ACRONYM_INSIDE.search(lowered) is not None
    return lowered.replace(".", "") in HONORIFICS | SUFFIXES or inside


name_part = st.text(alphabet=LETTERS, min_size=1, max_size=8)
name_word = st.builds(
    lambda first, rest: first + "".join(sep + part for sep, part in rest),
    name_part,
    st.lists(st.tuples(st.sampled_from("-'"), name_part), max_size=2),
).filter(lambda w: not _is_reserved(w))
clean_name = st.lists(name_word, min_size=1, max_size=4).map(" ".join)
space_run = st.text(alphabet=" \u00a0\t", min_size=1, max_size=3)


@st.composite
def honorific(draw: st.DrawFn) -> str:
    title = _mixed_case(draw, draw(st.sampled_from(sorted(HONORIFICS))))
    return title + draw(st.sampled_from(["", "."]))


@st.composite
def suffix(draw: st.DrawFn) -> str:
    token = draw(st.sampled_from(sorted(SUFFIXES)))
    dots = draw(st.integers(0, 2 ** len(token) - 1))
    dotted = "".join(ch + ("." if dots >> i & 1 else "") for i, ch in enumerate(token))
    separator = draw(st.sampled_from([" ", ", ", ",", " , ", "  "]))
    return separator + _mixed_case(draw, dotted)


@st.composite
def decorated_name(draw: st.DrawFn) -> tuple[str, str]:
    """(what the user expects, what the export holds)."""
    clean = draw(clean_name)
    body = draw(space_run).join(_mixed_case(draw, w) for w in clean.split(" "))
    titles = "".join(t + draw(space_run) for t in draw(st.lists(honorific(), max_size=2)))
    credentials = "".join(draw(st.lists(suffix(), max_size=2)))
    trailer = draw(st.sampled_from(["", " ", ",", " \u00a0"]))
    lead = draw(st.sampled_from(["", " ", "\u00a0 "]))
    return _reference_title(clean), lead + titles + body + credentials + trailer


def _person_name(column: str) -> str:
    return rules.apply_rules(column, NAME_RULES, CONFIG)


def test_name_rules_are_the_ones_the_contract_declares() -> None:
    assert NAME_RULES == ["collapse_spaces", "strip_honorifics", "strip_suffixes", "title_case"]


@PROPERTY
@given(st.lists(decorated_name(), min_size=1, max_size=40))
@example([("Juan Dela Cruz", "DR. juan dela cruz, ph.d."),
          ("Ana O'Neil-Smith", "mr  Mrs ana o'neil-SMITH jr., md"),
          ("José Rizal", "\u00a0jOSÉ rIZAL iii ,")])
def test_person_name_pipeline_strips_titles_and_suffixes_and_title_cases(
        cases: list[tuple[str, str]]) -> None:
    expected = [e for e, _ in cases]
    raw = [r for _, r in cases]
    once = evaluate(_person_name, as_read(raw))
    twice = evaluate(_person_name, once)
    for source, want, got, again in zip(raw, expected, once, twice, strict=True):
        assert got == want, repr(source)
        assert got.split(" ")[0].lower().rstrip(".") not in HONORIFICS
        assert got.split(" ")[-1].lower().replace(".", "") not in SUFFIXES
        assert again == got, f"not idempotent on {source!r}"


@PROPERTY
@given(st.lists(st.builds(lambda titles, credentials: " ".join([*titles, *(c.strip(" ,") for c in credentials)]),
                          st.lists(honorific(), max_size=2), st.lists(suffix(), max_size=2))
                .filter(str.strip), min_size=1, max_size=20))
def test_person_name_of_only_titles_and_suffixes_becomes_null(values: list[str]) -> None:
    assert evaluate(_person_name, as_read(values)) == [None] * len(values)


# --- title_case -----------------------------------------------------------------------------

title_word = st.one_of(
    st.builds(lambda w, flips: "".join(c.upper() if flips >> (i % 32) & 1 else c.lower() for i, c in enumerate(w)),
              name_word, st.integers(0, 2**32 - 1)),
    st.sampled_from(sorted(ACRONYMS)).flatmap(lambda a: st.sampled_from([a, a.upper(), a.title()])),
)


@PROPERTY
@given(st.lists(st.lists(title_word, min_size=1, max_size=5).map(" ".join), min_size=1, max_size=40))
@example(["hr SPECIALIST", "r&d engineer", "mary-jane o'brien", "IT", "dmc mAIN"])
def test_title_case_capitalizes_words_and_parts_but_keeps_acronyms(values: list[str]) -> None:
    for value, result in zip(values, evaluate(lambda v: rules.title_case(v, CONFIG), values), strict=True):
        assert result.lower() == value.lower()
        for word in result.split(" "):
            if word.lower() in ACRONYMS:
                assert word == word.upper(), (value, result)
                continue
            for part in re.split(r"[-']", word):
                assert part == part[:1].upper() + part[1:].lower(), (value, result)


def test_acronym_letters_at_the_start_of_a_non_ascii_name_stay_lower_case() -> None:
    names = ["itō", "hröbjartur", "ui\u00e0"]
    assert evaluate(lambda v: rules.title_case(v, CONFIG), names) == ["Itō", "Hröbjartur", "Ui\u00e0"]


# --- match_key / canonical_value ------------------------------------------------------------

def _allowed_spellings(column: str) -> dict[str, str]:
    """spelling -> canonical value, from the real contract."""
    spec = ALUMNI.column(column)
    spellings = {value: value for value in spec.allowed or []}
    for value, variants in (spec.canonical or {}).items():
        spellings.update({v: value for v in [value, *variants]})
    return spellings


JOB_ROLES = _allowed_spellings("job_role")
DEPARTMENTS = _allowed_spellings("department")


@st.composite
def spelling_variant(draw: st.DrawFn, spellings: dict[str, str]) -> tuple[str, str]:
    """(canonical, a casing/spacing/dot variant of a declared spelling)."""
    spelling = draw(st.sampled_from(sorted(spellings)))
    words = []
    for word in spelling.split(" "):
        dots = draw(st.integers(0, 2**32 - 1))
        words.append("".join(ch + ("." if dots >> (i % 32) & 1 and ch.isalpha() else "")
                             for i, ch in enumerate(word)))
    text = "".join(w + (draw(space_run) if i < len(words) - 1 else "") for i, w in enumerate(words))
    return spellings[spelling], draw(space_run | st.just("")) + _mixed_case(draw, text) + draw(space_run | st.just(""))


def _canonical(column: str) -> Callable[[str], str]:
    """The column's rules from the contract, then the lookup keyed the way the contract builds it."""
    spec = ALUMNI.column(column)
    lookup = {rules.python_match_key(spelling): canonical for spelling, canonical in _allowed_spellings(column).items()}
    return lambda v: rules.canonical_value(rules.apply_rules(v, spec.normalize, CONFIG), lookup)


@PROPERTY
@pytest.mark.parametrize("column, spellings", [("job_role", JOB_ROLES), ("department", DEPARTMENTS)])
@given(data=st.data())
def test_any_variant_of_a_declared_spelling_maps_to_its_canonical_value(
        column: str, spellings: dict[str, str], data: st.DataObject) -> None:
    cases = data.draw(st.lists(spelling_variant(spellings), min_size=1, max_size=40))
    results = evaluate(_canonical(column), as_read([raw for _, raw in cases]))
    assert results == [canonical for canonical, _ in cases], cases


@PROPERTY
@pytest.mark.parametrize("column, spellings", [("job_role", JOB_ROLES), ("department", DEPARTMENTS)])
@given(data=st.data())
def test_an_undeclared_word_maps_to_null(column: str, spellings: dict[str, str], data: st.DataObject) -> None:
    keys = {rules.python_match_key(s) for s in spellings}
    words = data.draw(st.lists(st.text(alphabet=LETTERS + " .-", min_size=1, max_size=15)
                               .filter(lambda w: rules.python_match_key(w) not in keys), min_size=1, max_size=40))
    assert evaluate(_canonical(column), as_read(words)) == [None] * len(words)


@PROPERTY
@given(st.lists(st.text(alphabet=LETTERS + "0123456789 .,-_&+#/()'\u00a0", max_size=20), min_size=1, max_size=60))
@example(["Enfermería", "Ingeniería Civil", "R & D", "h.r._specialist", "Ñandú"])
def test_sql_match_key_equals_the_python_key_the_lookup_is_built_with(values: list[str]) -> None:
    assert evaluate(rules.match_key, values) == [rules.python_match_key(v) for v in values]


def test_canonical_value_with_a_non_ascii_canonical_spelling() -> None:
    spellings = {rules.python_match_key(v): v for v in ["Enfermería", "Tecnología Educativa"]}
    got = evaluate(lambda v: rules.canonical_value(v, spellings), ["ENFERMERÍA", "tecnología  educativa", "enfermeria"])
    assert got == ["Enfermería", "Tecnología Educativa", None]


# --- email ----------------------------------------------------------------------------------

ATOM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-"
local_part = st.lists(st.text(alphabet=ATOM, min_size=1, max_size=8), min_size=1, max_size=3).map(".".join)
label = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,10}[A-Za-z0-9])?", fullmatch=True)
tld = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=6)
valid_address = st.builds(lambda local, labels, top: f"{local}@{'.'.join([*labels, top])}",
                          local_part, st.lists(label, min_size=1, max_size=3), tld)
outer = st.text(alphabet=" \t\u00a0", max_size=3)


def _email_normalized(column: str) -> str:
    return rules.email(column)[0]


def _email_valid(column: str) -> str:
    return rules.email(column)[1]


@PROPERTY
@given(st.lists(st.tuples(outer, valid_address, outer), min_size=1, max_size=50))
def test_valid_email_is_trimmed_lower_cased_and_valid(cases: list[tuple[str, str, str]]) -> None:
    raw = as_read([a + address + b for a, address, b in cases])
    assert evaluate(_email_normalized, raw) == [address.lower() for _, address, _ in cases]
    assert evaluate(_email_valid, raw) == [True] * len(raw)


domain_text = st.text(alphabet=st.sampled_from(LETTERS + "0123456789.-_"), min_size=1, max_size=20)


@PROPERTY
@given(st.lists(st.tuples(local_part, domain_text), min_size=1, max_size=50))
@example([("ana", "GMIAL.COM"), ("ana", "Bücher.DE"), ("x", "gmail.co"), ("x", "yahoo.com.")])
def test_email_domain_is_never_rewritten_beyond_lower_case(cases: list[tuple[str, str]]) -> None:
    raw = as_read([f" {local}@{domain} " for local, domain in cases])
    for (_, domain), normalized in zip(cases, evaluate(_email_normalized, raw), strict=True):
        assert normalized.rsplit("@", 1)[1] == domain.lower()


email_like = st.text(alphabet=st.sampled_from("abcXYZ019.@-_+ "), max_size=20)


def _obviously_invalid(value: str) -> bool:
    text = value.strip()
    if text.count("@") != 1:
        return True
    local, domain = text.split("@")
    return not local or "." not in domain


@PROPERTY
@given(st.lists(email_like.filter(_obviously_invalid), min_size=1, max_size=60))
@example(["ana", "a@@b.com", "@b.com", "a@b", "a@b@c.com", " @x.org", "a@localhost"])
def test_email_without_one_at_or_local_part_or_dotted_domain_is_invalid(values: list[str]) -> None:
    assert [bool(v) for v in evaluate(_email_valid, as_read(values))] == [False] * len(values)


# --- phones ---------------------------------------------------------------------------------

def _is_valid_ph(national: int) -> bool:
    return phonenumbers.is_valid_number(phonenumbers.parse(f"+63{national}"))


ph_mobile = st.integers(9_000_000_000, 9_999_999_999).filter(_is_valid_ph).map(str)


@st.composite
def written_form(draw: st.DrawFn, national: str) -> str:
    """The mobile number as people write it: prefixes, groups, separators, parentheses."""
    prefix = draw(st.sampled_from(["", "0", "+63", "63", "+63 ", "(+63) ", "+63-"]))
    cuts = sorted(draw(st.sets(st.integers(1, len(national) - 1), max_size=3)))
    groups = [national[a:b] for a, b in zip([0, *cuts], [*cuts, len(national)], strict=True)]
    if draw(st.booleans()):
        groups[0] = f"({groups[0]})"
    separator = draw(st.sampled_from([" ", "-", ".", "", " - ", "  "]))
    return draw(outer) + prefix + separator.join(groups) + draw(outer)


def _python_e164(raw: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(raw, "PH"), phonenumbers.PhoneNumberFormat.E164)


def _sql_phone(column: str) -> str:
    return rules.phone_e164(rules.phone_national(rules.phone_digits(column), "PH"), "PH")


@PROPERTY
@given(st.lists(ph_mobile.flatmap(lambda n: st.tuples(st.just(n), written_form(n))), min_size=1, max_size=50))
@example([("9171234567", "0917 123 4567"), ("9171234567", "+63 (917) 123-4567"),
          ("9171234567", "639171234567"), ("9171234567", "917.123.4567")])
def test_every_written_form_of_a_ph_mobile_gives_libphonenumbers_e164(cases: list[tuple[str, str]]) -> None:
    raw = [form for _, form in cases]
    expected = [_python_e164(form) for form in raw]
    assert expected == [f"+63{national}" for national, _ in cases]
    assert evaluate(_sql_phone, as_read(raw)) == expected


digit_junk = st.builds(lambda prefix, digits: prefix + digits,
                       st.sampled_from(["", "+", "0", "63", "+63", "9", "09", "1800", "2", "8"]),
                       st.text(alphabet="0123456789", max_size=12))


@PROPERTY
@given(st.lists(digit_junk, min_size=1, max_size=80))
@example(["12345", "9000000000", "09000000000", "+639000000000", "0000000000", "+63", "63"])
def test_sql_phone_never_accepts_what_libphonenumber_rejects(values: list[str]) -> None:
    for value, result in zip(values, evaluate(_sql_phone, values), strict=True):
        assert result is None or result == rules.phone_e164_python(value, "PH"), value


def test_obvious_junk_phone_is_null() -> None:
    junk = ["12345", "abc", "", "   ", "+", "000", "9", "0917"]
    assert evaluate(_sql_phone, as_read(junk)) == [None] * len(junk)
    assert [rules.phone_e164_python(j, "PH") for j in junk] == [None] * len(junk)


FOREIGN = ["US", "GB", "JP", "SG", "AU", "DE", "IN", "CA"]


@st.composite
def foreign_number(draw: st.DrawFn) -> tuple[str, str]:
    region = draw(st.sampled_from(FOREIGN))
    kind = draw(st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]))
    number = phonenumbers.example_number_for_type(region, kind)
    style = draw(st.sampled_from([phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164]))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), \
        phonenumbers.format_number(number, style)


@PROPERTY
@given(st.lists(foreign_number(), min_size=1, max_size=20))
def test_foreign_numbers_go_to_python_and_come_back_in_e164(cases: list[tuple[str, str]]) -> None:
    raw = [written for _, written in cases]
    assert evaluate(_sql_phone, as_read(raw)) == [None] * len(raw)  # SQL leaves them to libphonenumber
    assert [rules.phone_e164_python(w, "PH") for w in raw] == [e164 for e164, _ in cases]


def test_foreign_number_in_its_national_form_needs_its_region() -> None:
    assert rules.phone_e164_python("(650) 253-0000", "US") == "+16502530000"
    assert rules.phone_e164_python("020 7946 0958", "GB") == "+442079460958"
    assert rules.phone_e164_python("not a phone", "US") is None


# --- timestamp --------------------------------------------------------------------------------

FORMATS = ALUMNI.column("submission_date").formats
date_text = st.builds(
    lambda y, mo, d, h, mi, s, date_sep, time_sep, between: (
        f"{y}{date_sep}{mo}{date_sep}{d}" if date_sep != "/" else f"{mo}/{d}/{y}") + (
        "" if between is None else f"{between}{h}{time_sep}{mi}" + ("" if s is None else f"{time_sep}{s}")),
    st.sampled_from(["2024", "2025", "99", "0"]), st.sampled_from(["1", "01", "12", "13", "00"]),
    st.sampled_from(["5", "05", "29", "30", "31", "32"]), st.sampled_from(["0", "07", "23", "24"]),
    st.sampled_from(["08", "59", "60"]), st.sampled_from(["09", "59", "61", None]),
    st.sampled_from(["-", "/", ".", ""]), st.sampled_from([":", "-", "."]),
    st.sampled_from([None, " ", "T", "t", "  ", ""]),
)


@PROPERTY
@given(st.lists(st.one_of(date_text, st.text(alphabet="0123456789-/:T .", max_size=20)), min_size=1, max_size=60))
@example(["2024-02-29 10:00:00", "2025-02-29", "1/5/2024", "01/05/2024 23:59:59", "2024-01-05T07:08:09",
          "2024-01-05t07:08:09", "2024-01-05  07:08:09", "2024-1-5", "12/31/2024 24:00:00", "", "T", "-:/",
          "2024-01-05 07:08", "1/5/2024 9:05", "2024-01-05T07:08"])
def test_timestamp_takes_the_first_contract_format_that_parses(values: list[str]) -> None:
    """The guarded attempts give what trying the formats in order gives: DuckDB's own list form
    agrees, and so does Python's strptime wherever DuckDB's reading of a format is Python's."""
    # as text: DuckDB reads year 0, which Python's datetime cannot hold
    guarded = evaluate(lambda v: f"CAST({rules.timestamp(v, FORMATS)} AS VARCHAR)", values)
    listed = evaluate(lambda v: f"CAST(try_strptime({v}, [{', '.join(map(sql_literal, FORMATS))}]) AS VARCHAR)",
                      values)
    assert guarded == listed
    for value, got in zip(values, guarded, strict=True):
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?", value):
            expected = next((p for p in (_python_strptime(value, f) for f in FORMATS) if p), None)
            assert got == (str(expected) if expected else None), value


def _python_strptime(value: str, form: str) -> datetime | None:
    try:
        return datetime.strptime(value, form)
    except ValueError:
        return None
