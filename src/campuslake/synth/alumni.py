"""Deterministic synthetic alumni-survey CSV exports, messy like real ones, with an answer key."""

from __future__ import annotations

import gzip
import re
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from campuslake.config import Settings, load_settings
from campuslake.errors import UsageError
from campuslake.synth.answer_key import (
    CLEAN_SCHEMA,
    DUPLICATE,
    KEY_DIR_NAME,
    QUARANTINED,
    ROWS_SCHEMA,
    VALID,
    write_answer_key,
)
from campuslake.synth.names import FIRST_NAMES, LAST_NAMES, email_local_part, latin1_encodable
from campuslake.validate.reasons import FileReason, RowReason

MIN_EMPLOYEE_ID, MAX_EMPLOYEE_ID = 100_000, 999_999
EXPORT_PREFIX = "alumni_export_"
V1_HEADER = (
    "Employee_ID", "Employee_Name", "College_Degree", "Department", "Job_Role", "DMC_Campus",
    "Email", "Phone_Number", "Performance_Rating",
)
V2_HEADER = (*V1_HEADER, "Submission Date")
NOTES_HEADER = "Notes"
SCHEMAS = ("v1", "v2", "mixed")

_CONTRACT_COLUMN = dict(zip(V2_HEADER, CLEAN_SCHEMA.names, strict=True))
# Header spellings a second exporter uses; each still maps to its contract column by alias.
_RENAMED_HEADER = {
    "Employee_ID": "employee id", "Employee_Name": "EMPLOYEE_NAME", "College_Degree": "Degree",
    "Department": "dept", "Job_Role": "Job Title", "DMC_Campus": "Campus", "Email": "E-mail",
    "Phone_Number": "Phone Number", "Performance_Rating": "rating",
    "Submission Date": "submitted_at",
}


@dataclass(frozen=True)
class FileLayout:
    """How one export file is written, apart from its rows."""

    encoding: str = "utf-8"
    """utf-8, utf-8-sig (with BOM), utf-16 (little-endian with BOM) or latin-1"""
    line_ending: str = "\n"
    gzip: bool = False
    """compress the file and name it .csv.gz"""
    reorder_columns: bool = False
    rename_headers: bool = False
    """use other header spellings that still match the contract's aliases"""
    notes_column: bool = False
    """add an unknown `Notes` column, some values quoted with commas, quotes and newlines"""


PLAIN_LAYOUT = FileLayout()
# Files 1, 2, ... cycle through these, so any 8 files show every variant at least once.
MESSY_LAYOUTS = (
    FileLayout(encoding="utf-8-sig", line_ending="\r\n"),
    FileLayout(encoding="utf-16", reorder_columns=True),
    FileLayout(encoding="latin-1", rename_headers=True),
    FileLayout(gzip=True, notes_column=True),
    FileLayout(encoding="utf-8-sig", line_ending="\r\n", rename_headers=True, reorder_columns=True),
    FileLayout(encoding="utf-16", line_ending="\r\n", gzip=True, notes_column=True),
    FileLayout(encoding="latin-1", notes_column=True, reorder_columns=True),
)

# Share of cells or rows given each kind of mess. All of it is normalizable; only the
# injected defects make a row invalid.
_CASE_WEIGHTS = (0.40, 0.15, 0.15, 0.10, 0.10, 0.10)
"""canonical, lower, upper, two random casings, random casing with doubled inner spaces"""
_HONORIFIC_SHARE = 0.12
_SUFFIX_SHARE = 0.10
_BLANK_OPTIONAL_SHARE = 0.01
"""e-mail or phone written empty or as a null token (both are optional columns)"""
_SHARED_EMAIL_SHARE = 0.01
_NAMESAKE_SHARE = 0.01
"""new people given the name of another new person, on top of chance namesakes"""
_ROLE_CHANGE_SHARE = 0.5
"""of repeat answers; the rating always changes"""
_EMAIL_NUMBER_SHARE = 0.7
_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
_DOTTED_SUFFIXES = {"md": "M.D.", "phd": "Ph.D."}


@dataclass(frozen=True)
class _Affix:
    """Alternative strings written before or after a value, with their weights."""

    options: tuple[str, ...]
    weights: tuple[float, ...]


_NO_AFFIX = _Affix(("",), (1.0,))
# About a third of cells get leading and/or trailing spaces (1 - 0.82 * 0.80).
_LEADING_SPACES = _Affix(("", " ", "  ", "   "), (0.82, 0.10, 0.05, 0.03))
_TRAILING_SPACES = _Affix(("", " ", "  "), (0.80, 0.14, 0.06))
_NAME_GAP = _Affix((" ", "  "), (0.92, 0.08))

# Philippine mobile prefixes (after the trunk 0) that phonenumbers accepts as valid for
# every subscriber number, so a well-formed phone is never quarantined.
_MOBILE_PREFIXES = (
    "905", "906", "908", "915", "916", "917", "918", "919", "920", "921", "922", "923", "925",
    "926", "927", "928", "929", "932", "933", "935", "936", "939", "942", "943", "945", "947",
    "949", "951", "955", "956", "961", "965", "966", "973", "974", "975", "977", "995", "997",
    "998", "999",
)
# (before the prefix, after the prefix, between the 3- and 4-digit groups)
_PHONE_LAYOUTS = (
    ("", "", ""),  # 9171234567
    ("0", "", ""),  # 09171234567
    ("+63", "", ""),  # +639171234567
    ("63", "", ""),  # 639171234567
    ("0", " ", " "),  # 0917 123 4567
    ("0", "-", "-"),  # 0917-123-4567
    ("(0", ") ", "."),  # (0917) 123.4567
    ("+63 ", " ", " "),  # +63 917 123 4567
)

_NOTES = (
    "", "called twice", "moved, then\nreturned", 'prefers "Bea"', "on leave,\nback in May, 2024",
)
_NOTES_WEIGHTS = (0.86, 0.05, 0.04, 0.03, 0.02)
_MULTILINE_NOTE = 2

# Submission dates fall in 2024-2025, split into one window per file so a later file's
# answer is always strictly later; real ingest times come after all of them.
_FIRST_SUBMISSION = np.datetime64("2024-01-01T00:00:00", "s")
_SUBMISSION_SPAN_SECONDS = 2 * 365 * 24 * 3600

_VALID, _QUARANTINED, _DUPLICATE = 0, 1, 2
_STATUS_NAMES = pa.array([VALID, QUARANTINED, DUPLICATE])
# The alumni contract declares no pattern, so `pattern_mismatch` cannot be provoked.
# The alumni contract declares no pattern; a quote that never closes must be the file's last, which
# the generator's quoted names and notes after it would close; bytes of another encoding are not a
# value of the text it builds (tests write such files by hand).
_NOT_GENERATED = (RowReason.PATTERN_MISMATCH, RowReason.UNCLOSED_QUOTE, RowReason.NOT_UTF8)
_DEFECTS = tuple(reason for reason in RowReason if reason not in _NOT_GENERATED)
_REASON_CODES = pa.array([None, *(str(reason) for reason in _DEFECTS)], pa.string())
_EXTRA_FIELDS = ("unexpected", "N/A", "42")
_CONTROL_CHARACTERS = ("\x01", "\x08", "\x1b", "\x7f")
"""stray bytes of exporting tools, the same in every encoding the files are written in (a NUL in
the first 64 KiB would make the file binary; C1 controls are Windows-1252 letters there)"""
_UNKNOWN_VALUES = (
    ("Job_Role", "Astronaut"), ("DMC_Campus", "Moon Campus"),
    ("College_Degree", "BS Astrology"), ("Department", "Legal"),
)


@dataclass(frozen=True)
class GenerationManifest:
    """What `generate_alumni` wrote."""

    out_dir: Path
    files: tuple[Path, ...]
    """every export, in ingest order: the data files, then the deliberately bad ones"""
    rejected_files: tuple[Path, ...]
    answer_key_dir: Path
    rows: int
    """data records in the data files (= rows_valid + rows_quarantined + rows_duplicate)"""
    rows_valid: int
    rows_quarantined: int
    rows_duplicate: int
    alumni: int
    """employees in the expected current state"""


@dataclass(frozen=True)
class _Vocabulary:
    """The canonical values the alumni contract declares."""

    degrees: tuple[str, ...]
    departments: tuple[str, ...]
    role_spellings: dict[str, tuple[str, ...]]
    """canonical role -> its contract spellings, canonical first"""
    campuses: tuple[str, ...]
    honorifics: tuple[str, ...]
    suffixes: tuple[str, ...]
    null_tokens: tuple[str, ...]
    required_headers: tuple[str, ...]
    timestamp_formats: tuple[str, ...]
    top_n: int

    @classmethod
    def from_settings(cls, settings: Settings) -> _Vocabulary:
        contract = settings.dataset("alumni")
        required = {c.name for c in contract.columns if c.required}
        roles = contract.column("job_role").canonical or {}
        for column in ("college_degree", "department", "job_role", "campus"):
            spec = contract.column(column)
            canonical = spec.canonical or {}
            variants = [s for group in canonical.values() for s in group]
            spellings = [*(spec.allowed or ()), *canonical, *variants]
            needs_quotes = [s for s in spellings if re.search(r'[",\r\n]', s)]
            if needs_quotes:  # cells of these columns are written unquoted, for speed
                raise ValueError(
                    f"alumni contract {column} values must not hold a comma, quote or line "
                    f"break: {needs_quotes}"
                )
        return cls(
            degrees=tuple(contract.column("college_degree").allowed or ()),
            departments=tuple(contract.column("department").allowed or ()),
            role_spellings={role: (role, *variants) for role, variants in roles.items()},
            campuses=tuple(contract.column("campus").allowed or ()),
            honorifics=tuple(settings.normalization.honorifics),
            suffixes=tuple(settings.normalization.suffixes),
            null_tokens=tuple(contract.null_tokens),
            required_headers=tuple(h for h in V1_HEADER if _CONTRACT_COLUMN[h] in required),
            # Only formats exact to the second, so the key's timestamp is what the file says.
            timestamp_formats=tuple(
                f for f in contract.column("submission_date").formats
                if {"%H", "%M", "%S"} <= set(_TIMESTAMP_DIRECTIVE.findall(f))
                and not re.search(r"%[^YmdHMS]", f)
            ),
            top_n=settings.top_n_per_department,
        )


def _random_case(text: str, rng: np.random.Generator) -> str:
    upper = rng.random(len(text)) < 0.5
    return "".join(c.upper() if up else c.lower() for c, up in zip(text, upper, strict=True))


def _case_variants(text: str, rng: np.random.Generator) -> list[str]:
    """The spellings `_CASE_WEIGHTS` weighs, for one vocabulary value."""
    return [
        text, text.lower(), text.upper(), _random_case(text, rng), _random_case(text, rng),
        _random_case(text.replace(" ", "  "), rng),
    ]


def _weighted_lookup(weights: np.ndarray) -> np.ndarray:
    """A table whose uniformly random entry is i with probability weights[i] (to 1/65536).

    Indexing it with random integers is several times faster than `rng.choice(p=...)`.
    """
    size = 1 << 16
    exact = weights / weights.sum() * size
    counts = np.floor(exact).astype(np.int64)
    counts[np.argsort(counts - exact, kind="stable")[: size - counts.sum()]] += 1
    return np.repeat(np.arange(len(weights)), counts)


class _Spellings:
    """Weighted alternative spellings of each of a few values, pre-rendered with their affixes.

    Rows pick one by numpy index, so a column of a million cells is one Arrow `take`.
    """

    def __init__(
        self, spellings: Sequence[Sequence[str]], weights: Sequence[float], *,
        before: _Affix = _NO_AFFIX, after: _Affix = _NO_AFFIX,
    ) -> None:
        by_variant = np.multiply.outer(
            np.multiply.outer(weights, before.weights), after.weights
        ).ravel()
        self.width = len(by_variant)
        self.lookup = _weighted_lookup(by_variant)
        self.flat = pa.array(
            [b + s + a for row in spellings for s in row
             for b in before.options for a in after.options],
            pa.string(),
        )

    @classmethod
    def cased(
        cls, values: Sequence[str], rng: np.random.Generator, **affixes: _Affix
    ) -> _Spellings:
        return cls([_case_variants(v, rng) for v in values], _CASE_WEIGHTS, **affixes)

    @classmethod
    def verbatim(cls, values: Sequence[str], **affixes: _Affix) -> _Spellings:
        return cls([[v] for v in values], (1.0,), **affixes)

    @classmethod
    def sometimes(cls, forms: Sequence[str], share: float, **affixes: _Affix) -> _Spellings:
        """Nothing, or (with probability `share`) one of `forms`; pick with value index 0."""
        return cls([["", *forms]], (1.0 - share, *[share / len(forms)] * len(forms)), **affixes)

    def pick(self, value_index: np.ndarray | int, size: int, rng: np.random.Generator) -> pa.Array:
        variant = self.lookup[rng.integers(len(self.lookup), size=size)]
        return self.flat.take(np.asarray(value_index, np.int64) * self.width + variant)


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


class _Renderer:
    """Turns person and answer attributes into clean values and into messy CSV cells."""

    def __init__(self, vocab: _Vocabulary, rng: np.random.Generator) -> None:
        self.vocab = vocab
        self.first_names, self.last_names = pa.array(FIRST_NAMES), pa.array(LAST_NAMES)
        self.degrees, self.departments, self.campuses, self.roles = (
            pa.array(list(values), pa.string())
            for values in (vocab.degrees, vocab.departments, vocab.campuses, vocab.role_spellings)
        )
        first_locals = [email_local_part(n) for n in FIRST_NAMES]
        last_locals = [email_local_part(n) for n in LAST_NAMES]
        self.first_locals, self.last_locals = pa.array(first_locals), pa.array(last_locals)
        self.email_numbers = pa.array(["", *(str(i) for i in range(1, 100))])
        self.domains = pa.array(_EMAIL_DOMAINS)
        self.prefixes = pa.array(_MOBILE_PREFIXES)
        self.digits3 = pa.array([f"{i:03d}" for i in range(1000)])
        self.digits4 = pa.array([f"{i:04d}" for i in range(10_000)])

        # Messy spellings; leading and trailing spaces ride on each cell's first and last piece.
        self.honorific_forms = self._honorific_forms(rng)
        self.suffix_forms = self._suffix_forms(rng)
        self.messy_honorifics = _Spellings.sometimes(
            self.honorific_forms, _HONORIFIC_SHARE, before=_LEADING_SPACES
        )
        self.messy_first = _Spellings.cased(FIRST_NAMES, rng)
        self.messy_last = _Spellings.cased(LAST_NAMES, rng, before=_NAME_GAP)
        self.messy_suffixes = _Spellings.sometimes(
            self.suffix_forms, _SUFFIX_SHARE, after=_TRAILING_SPACES
        )

        def padded(values: Sequence[str]) -> _Spellings:
            return _Spellings.cased(values, rng, before=_LEADING_SPACES, after=_TRAILING_SPACES)

        self.messy_degrees = padded(vocab.degrees)
        self.messy_departments = padded(vocab.departments)
        self.messy_campuses = padded(vocab.campuses)
        self.messy_role_spellings = padded(
            [s for group in vocab.role_spellings.values() for s in group]
        )
        counts = np.array([len(group) for group in vocab.role_spellings.values()])
        self.role_spelling_count = counts
        self.role_first_spelling = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.messy_first_locals = _Spellings.cased(first_locals, rng, before=_LEADING_SPACES)
        self.messy_last_locals = _Spellings.cased(last_locals, rng, before=_Affix((".",), (1.0,)))
        self.messy_domains = _Spellings.cased(
            _EMAIL_DOMAINS, rng, before=_Affix(("@",), (1.0,)), after=_TRAILING_SPACES
        )
        before, after_prefix, between = zip(*_PHONE_LAYOUTS, strict=True)
        self.messy_phone_starts = _Spellings.verbatim(before, before=_LEADING_SPACES)
        self.phone_after_prefix, self.phone_between = pa.array(after_prefix), pa.array(between)
        self.messy_digits4 = _Spellings.verbatim(
            [f"{i:04d}" for i in range(10_000)], after=_TRAILING_SPACES
        )
        self.messy_ratings = _Spellings.verbatim(
            [str(r) for r in range(6)], before=_LEADING_SPACES, after=_TRAILING_SPACES
        )
        self.messy_leading = _Spellings.verbatim([""], before=_LEADING_SPACES)
        self.messy_trailing = _Spellings.verbatim([""], after=_TRAILING_SPACES)
        self.null_spelling_list = list(
            dict.fromkeys([s for t in vocab.null_tokens for s in (t, t.upper())] + ["  "])
        )
        self.null_spellings = pa.array(self.null_spelling_list, pa.string())

    def _honorific_forms(self, rng: np.random.Generator) -> list[str]:
        return [
            form + " "
            for h in self.vocab.honorifics
            for form in (
                h.capitalize() + ".", h, h.upper() + ".", h.upper(), _random_case(h, rng) + "."
            )
        ]

    def _suffix_forms(self, rng: np.random.Generator) -> list[str]:
        forms = []
        for s in self.vocab.suffixes:
            forms += [" " + s.capitalize(), " " + s.upper() + ".", ", " + s.capitalize() + ".",
                      " " + _random_case(s, rng), ", " + s.upper()]
            if s in _DOTTED_SUFFIXES:
                forms.append(" " + _DOTTED_SUFFIXES[s])
        return forms

    def title_and_credential(self, pick: float, pick2: float) -> str:
        """A name made only of an honorific and a suffix, e.g. `Dr. PhD`."""
        honorific = self.honorific_forms[int(pick * len(self.honorific_forms))]
        return honorific + self.suffix_forms[int(pick2 * len(self.suffix_forms))].lstrip(", ")

    def messy_names(
        self, first: np.ndarray, last: np.ndarray, rng: np.random.Generator
    ) -> pa.Array:
        n = len(first)
        return _join(
            self.messy_honorifics.pick(0, n, rng), self.messy_first.pick(first, n, rng),
            self.messy_last.pick(last, n, rng), self.messy_suffixes.pick(0, n, rng),
        )

    def clean_names(self, first: pa.Array, last: np.ndarray) -> pa.Array:
        return _join(self.first_names.take(first), " ", self.last_names.take(last))

    def messy_roles(self, role: np.ndarray, rng: np.random.Generator) -> pa.Array:
        offset = (rng.random(len(role)) * self.role_spelling_count[role]).astype(np.int64)
        spelling = self.role_first_spelling[role] + offset
        return self.messy_role_spellings.pick(spelling, len(role), rng)

    def messy_emails(self, people: _People, p: np.ndarray, rng: np.random.Generator) -> pa.Array:
        n = len(p)
        return _join(
            self.messy_first_locals.pick(people.email_first[p], n, rng),
            self.messy_last_locals.pick(people.email_last[p], n, rng),
            self.email_numbers.take(people.email_number[p]),
            self.messy_domains.pick(people.email_domain[p], n, rng),
        )

    def clean_emails(self, people: _People, p: np.ndarray, hidden: np.ndarray) -> pa.Array:
        return _join(
            self.first_locals.take(pa.array(people.email_first[p], mask=hidden)), ".",
            self.last_locals.take(people.email_last[p]),
            self.email_numbers.take(people.email_number[p]), "@",
            self.domains.take(people.email_domain[p]),
        )

    def messy_phones(self, people: _People, p: np.ndarray, rng: np.random.Generator) -> pa.Array:
        n = len(p)
        layout = rng.integers(len(_PHONE_LAYOUTS), size=n)
        return _join(
            self.messy_phone_starts.pick(layout, n, rng),
            self.prefixes.take(people.phone_prefix[p]),
            self.phone_after_prefix.take(layout), self.digits3.take(people.phone_mid[p]),
            self.phone_between.take(layout), self.messy_digits4.pick(people.phone_last[p], n, rng),
        )

    def clean_phones(self, people: _People, p: np.ndarray, hidden: np.ndarray) -> pa.Array:
        return _join(
            "+63", self.prefixes.take(pa.array(people.phone_prefix[p], mask=hidden)),
            self.digits3.take(people.phone_mid[p]), self.digits4.take(people.phone_last[p]),
        )

    def messy_timestamps(self, submitted: np.ndarray, rng: np.random.Generator) -> pa.Array:
        formats = self.vocab.timestamp_formats
        choice = rng.integers(len(formats), size=len(submitted))
        # Format each row once: group rows by format, then put them back in place.
        by_format = np.argsort(choice, kind="stable")
        group_ends = np.cumsum(np.bincount(choice, minlength=len(formats)))[:-1]
        groups = np.split(submitted[by_format], group_ends)
        formatted = pa.concat_arrays(
            [_format_timestamps(g, f) for g, f in zip(groups, formats, strict=True)]
        )
        return self.with_margins(formatted.take(np.argsort(by_format)), rng)

    def with_margins(self, values: pa.Array, rng: np.random.Generator) -> pa.Array:
        """Leading and trailing spaces around values not built from pre-rendered pieces."""
        n = len(values)
        return _join(
            self.messy_leading.pick(0, n, rng), values, self.messy_trailing.pick(0, n, rng)
        )

    def blank_where(
        self, blank: np.ndarray, values: pa.Array, rng: np.random.Generator
    ) -> pa.Array:
        """Write an optional value as empty or as one of the contract's null tokens."""
        which = rng.integers(len(self.null_spellings), size=int(blank.sum()))
        spelling = self.null_spellings.take(which)
        return pc.replace_with_mask(values, pa.array(blank), spelling)


_TIMESTAMP_DIRECTIVE = re.compile(r"(%[YmdHMS])")
_TWO_DIGITS = pa.array([f"{i:02d}" for i in range(100)])
_UNPADDED = pa.array([str(i) for i in range(100)])


def _format_timestamps(stamps: np.ndarray, fmt: str) -> pa.Array:
    """strftime for the directives %Y %m %d %H %M %S, from digit tables (Arrow's is slow).

    US-style formats (with `/`) drop leading zeros of month and day, as spreadsheets do: 3/4/2025.
    """
    days = stamps.astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    years = months.astype("datetime64[Y]")
    seconds = (stamps - days).astype(np.int64)
    day_digits = _UNPADDED if "/" in fmt else _TWO_DIGITS
    fields = {
        "%Y": pc.cast(pa.array(years.astype(np.int64) + 1970), pa.string()),
        "%m": day_digits.take((months - years).astype(np.int64) + 1),
        "%d": day_digits.take((days - months).astype(np.int64) + 1),
        "%H": _TWO_DIGITS.take(seconds // 3600),
        "%M": _TWO_DIGITS.take(seconds // 60 % 60),
        "%S": _TWO_DIGITS.take(seconds % 60),
    }
    return _join(*(fields.get(piece, piece) for piece in _TIMESTAMP_DIRECTIVE.split(fmt) if piece))


def _copy_from_others(
    p: np.ndarray, columns: Sequence[np.ndarray], share: float, rng: np.random.Generator
) -> None:
    """Give a `share` of people `p` the values of other people among them, in all `columns`."""
    takers = p[rng.random(len(p)) < share]
    givers = p[rng.integers(len(p), size=len(takers))]
    for column in columns:
        column[takers] = column[givers]


class _People:
    """Everyone enrolled so far, as parallel numpy arrays indexed by person number."""

    def __init__(self, capacity: int, vocab: _Vocabulary, rng: np.random.Generator) -> None:
        id_space = MAX_EMPLOYEE_ID - MIN_EMPLOYEE_ID + 1
        self.capacity = capacity
        self.count = 0
        drawn = rng.choice(id_space, size=capacity, replace=False)
        self.employee_id = drawn.astype(np.int64) + MIN_EMPLOYEE_ID
        for name, dtype in (
            ("first", np.int16), ("last", np.int16), ("degree", np.int8), ("department", np.int8),
            ("role", np.int8), ("campus", np.int8), ("rating", np.int8), ("email_first", np.int16),
            ("email_last", np.int16), ("email_number", np.int16), ("email_domain", np.int8),
            ("phone_prefix", np.int8), ("phone_mid", np.int16), ("phone_last", np.int16),
            ("latin1_ok", bool), ("answered_v1", bool), ("never_repeat", bool),
        ):
            setattr(self, name, np.zeros(capacity, dtype))
        self.first_latin1 = np.array([latin1_encodable(n) for n in FIRST_NAMES])
        self.last_latin1 = np.array([latin1_encodable(n) for n in LAST_NAMES])
        self.n_roles = len(vocab.role_spellings)
        # Fixed tastes of this population, so departments, roles, degrees and campuses differ.
        self.department_weights = rng.dirichlet(np.full(len(vocab.departments), 4.0))
        self.role_weights = rng.dirichlet(np.full(self.n_roles, 4.0))
        self.degree_bias = rng.permutation(np.linspace(-0.6, 0.6, len(vocab.degrees)))
        self.campus_bias = rng.permutation(np.linspace(-0.5, 0.5, len(vocab.campuses)))
        self.n_degrees, self.n_campuses = len(vocab.degrees), len(vocab.campuses)

    def enroll(self, n: int, *, latin1_only: bool, rng: np.random.Generator) -> np.ndarray:
        """Create `n` new people; with `latin1_only` their names are all Latin-1 encodable."""
        if self.count + n > self.capacity:
            raise UsageError(
                f"these exports would need more than the {self.capacity:,} distinct people that "
                "6-digit employee ids allow (a person answers again only in a later file, and not "
                "in the v2 form after the v1 one): ask for fewer rows, more files or --schema v2"
            )
        p = np.arange(self.count, self.count + n)
        self.count += n
        any_name = not latin1_only
        first_pool = np.flatnonzero(self.first_latin1 | any_name)
        last_pool = np.flatnonzero(self.last_latin1 | any_name)
        self.first[p] = first_pool[rng.integers(len(first_pool), size=n)]
        self.last[p] = last_pool[rng.integers(len(last_pool), size=n)]
        _copy_from_others(p, (self.first, self.last), _NAMESAKE_SHARE, rng)
        self.latin1_ok[p] = self.first_latin1[self.first[p]] & self.last_latin1[self.last[p]]
        self.degree[p] = rng.integers(self.n_degrees, size=n)
        self.department[p] = rng.choice(
            len(self.department_weights), size=n, p=self.department_weights
        )
        self.role[p] = rng.choice(self.n_roles, size=n, p=self.role_weights)
        self.campus[p] = rng.integers(self.n_campuses, size=n)
        tilt = self.degree_bias[self.degree[p]] + self.campus_bias[self.campus[p]]
        self.rating[p] = np.clip(np.rint(3.2 + tilt + rng.normal(0.0, 0.9, n)), 1, 5)
        self.email_first[p], self.email_last[p] = self.first[p], self.last[p]
        numbered = rng.random(n) < _EMAIL_NUMBER_SHARE
        self.email_number[p] = np.where(numbered, rng.integers(1, 100, n), 0)
        self.email_domain[p] = rng.integers(len(_EMAIL_DOMAINS), size=n)
        # Some people share an address: a family or team mailbox.
        email_parts = (self.email_first, self.email_last, self.email_number, self.email_domain)
        _copy_from_others(p, email_parts, _SHARED_EMAIL_SHARE, rng)
        self.phone_prefix[p] = rng.integers(len(_MOBILE_PREFIXES), size=n)
        self.phone_mid[p] = rng.integers(1000, size=n)
        self.phone_last[p] = rng.integers(10_000, size=n)
        return p

    def repeat_candidates(self, *, into_v2: bool, latin1_only: bool) -> np.ndarray:
        """People who may answer again now, so that the new answer is unambiguously the latest.

        An answer without a submission date counts at its file's ingest time, later than any
        date, so after one of those a person may only answer again in files without dates.
        """
        eligible = ~self.never_repeat[: self.count]
        if into_v2:
            eligible &= ~self.answered_v1[: self.count]
        if latin1_only:
            eligible &= self.latin1_ok[: self.count]
        return np.flatnonzero(eligible)

    def answer_again(self, p: np.ndarray, rng: np.random.Generator) -> None:
        """A repeat answer: always another rating, often another role."""
        self.rating[p] = (self.rating[p] - 1 + rng.integers(1, 5, size=len(p))) % 5 + 1
        changed = p[rng.random(len(p)) < _ROLE_CHANGE_SHARE]
        shift = rng.integers(1, self.n_roles, size=len(changed))
        self.role[changed] = (self.role[changed] + shift) % self.n_roles


@dataclass(frozen=True)
class _FileQuota:
    rows: int
    bad: int
    duplicate: int
    repeat: int


def _plan_quotas(
    rows: int, files: int, bad_rate: float, dup_rate: float, repeat_rate: float
) -> list[_FileQuota]:
    """Split the rows over files and spread each kind of row so the totals match the rates."""
    sizes = np.full(files, rows // files, np.int64)
    sizes[: rows % files] += 1
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    later_bounds = np.concatenate([[0], np.cumsum(sizes[1:])])  # repeats need an earlier file

    def spread(total: float, over: np.ndarray) -> np.ndarray:
        return np.diff(np.rint(total * over / max(over[-1], 1)).astype(np.int64))

    bad = spread(bad_rate * rows, bounds)
    duplicate = spread(dup_rate * rows, bounds)
    repeats = round(repeat_rate * later_bounds[-1])
    # Every new person needs a distinct 6-digit id; beyond 900,000 people more rows must be repeats.
    people_needed = rows - int(duplicate.sum()) - repeats
    id_space = MAX_EMPLOYEE_ID - MIN_EMPLOYEE_ID + 1
    if people_needed > id_space:
        repeats += people_needed - id_space
    repeat = np.concatenate([[0], spread(repeats, later_bounds)])
    # Rounding can overfill a tiny file; what does not fit becomes new people.
    bad = np.minimum(bad, sizes)
    duplicate = np.minimum(duplicate, sizes - bad)
    repeat = np.minimum(repeat, sizes - bad - duplicate)
    return [_FileQuota(*map(int, q)) for q in zip(sizes, bad, duplicate, repeat, strict=True)]


@dataclass(frozen=True)
class _Answers:
    """The data records of one file, in file order, as equal-length numpy arrays."""

    person: np.ndarray
    role: np.ndarray
    rating: np.ndarray
    submitted: np.ndarray
    """datetime64[s]; NaT in files without a submission date"""
    email_blank: np.ndarray
    phone_blank: np.ndarray
    status: np.ndarray
    defect: np.ndarray
    """index into _DEFECTS, -1 for rows without a defect"""

    def take(self, order: np.ndarray) -> _Answers:
        return _Answers(*(getattr(self, f.name)[order] for f in fields(self)))


def _draw_answers(
    quota: _FileQuota, *, file_index: int, files: int, into_v2: bool, latin1_only: bool,
    first_defect: int, people: _People, rng: np.random.Generator,
) -> tuple[_Answers, int]:
    """The file's records in file order, and how many of them are repeat answers. Defects go
    round the kinds from `first_defect` (the bad rows of earlier files), so every kind is made
    once there are as many bad rows as kinds."""
    candidates = people.repeat_candidates(into_v2=into_v2, latin1_only=latin1_only)
    n_repeat = min(quota.repeat, len(candidates))
    n_duplicate = quota.duplicate
    n_fresh = quota.rows - quota.bad - n_duplicate - n_repeat
    if n_fresh + n_repeat == 0:  # nothing valid to copy: the copies become new people
        n_fresh, n_duplicate = n_duplicate, 0
    repeaters = rng.choice(candidates, size=n_repeat, replace=False)
    people.answer_again(repeaters, rng)
    fresh = people.enroll(n_fresh + quota.bad, latin1_only=latin1_only, rng=rng)
    spoiled = fresh[n_fresh:]
    people.never_repeat[spoiled] = True  # their only answer is quarantined
    order = rng.permutation(n_fresh + n_repeat + quota.bad)
    person = np.concatenate([fresh[:n_fresh], repeaters, spoiled])[order]
    is_bad = np.repeat([False, True], [n_fresh + n_repeat, quota.bad])[order]
    if not into_v2:
        people.answered_v1[person] = True
    n = len(person)
    if into_v2:
        window = max(_SUBMISSION_SPAN_SECONDS // files, 1)
        start = _FIRST_SUBMISSION + np.timedelta64(file_index * window, "s")
        submitted = start + rng.integers(window, size=n).astype("timedelta64[s]")
    else:
        submitted = np.full(n, np.datetime64("NaT"), "datetime64[s]")
    defect = np.full(n, -1, np.int8)
    defect[is_bad] = (first_defect + np.arange(quota.bad)) % len(_DEFECTS)
    unique = _Answers(
        person=person, role=people.role[person], rating=people.rating[person], submitted=submitted,
        email_blank=rng.random(n) < _BLANK_OPTIONAL_SHARE,
        phone_blank=rng.random(n) < _BLANK_OPTIONAL_SHARE,
        status=np.where(is_bad, _QUARANTINED, _VALID).astype(np.int8), defect=defect,
    )
    # Each copy lands somewhere after the valid row it copies.
    valid_rows = np.flatnonzero(~is_bad)
    sources = valid_rows[rng.integers(max(len(valid_rows), 1), size=n_duplicate)]
    landing = sources + 0.5 + rng.random(n_duplicate) * (n - 0.5 - sources)
    order = np.argsort(np.concatenate([np.arange(n, dtype=np.float64), landing]), kind="stable")
    answers = unique.take(np.concatenate([np.arange(n), sources])[order])
    status = np.concatenate([unique.status, np.full(n_duplicate, _DUPLICATE, np.int8)])[order]
    return replace(answers, status=status), n_repeat


def _render_cells(
    answers: _Answers, people: _People, renderer: _Renderer, *, into_v2: bool,
    rng: np.random.Generator,
) -> dict[str, pa.Array]:
    """Messy but normalizable cells, keyed by the v1/v2 header name."""
    p, n = answers.person, len(answers.person)
    cells = {
        "Employee_ID": renderer.with_margins(
            pa.array(people.employee_id[p]).cast(pa.string()), rng
        ),
        "Employee_Name": renderer.messy_names(people.first[p], people.last[p], rng),
        "College_Degree": renderer.messy_degrees.pick(people.degree[p], n, rng),
        "Department": renderer.messy_departments.pick(people.department[p], n, rng),
        "Job_Role": renderer.messy_roles(answers.role, rng),
        "DMC_Campus": renderer.messy_campuses.pick(people.campus[p], n, rng),
        "Email": renderer.blank_where(
            answers.email_blank, renderer.messy_emails(people, p, rng), rng
        ),
        "Phone_Number": renderer.blank_where(
            answers.phone_blank, renderer.messy_phones(people, p, rng), rng
        ),
        "Performance_Rating": renderer.messy_ratings.pick(answers.rating, n, rng),
    }
    if into_v2:
        cells["Submission Date"] = renderer.messy_timestamps(answers.submitted, rng)
    return cells


def _clean_columns(answers: _Answers, people: _People, renderer: _Renderer) -> dict[str, pa.Array]:
    """The canonical values the pipeline must produce; null on quarantined rows.

    A null index makes `take` (and so every join built on it) null, so nulls cost no extra pass.
    """
    p = answers.person
    hidden = answers.status == _QUARANTINED

    def hide(values: np.ndarray, also: np.ndarray | None = None) -> pa.Array:
        return pa.array(values, mask=hidden if also is None else hidden | also)

    return {
        "employee_id": hide(people.employee_id[p]),
        "employee_name": renderer.clean_names(hide(people.first[p]), people.last[p]),
        "college_degree": renderer.degrees.take(hide(people.degree[p])),
        "department": renderer.departments.take(hide(people.department[p])),
        "job_role": renderer.roles.take(hide(answers.role)),
        "campus": renderer.campuses.take(hide(people.campus[p])),
        "email": renderer.clean_emails(people, p, hidden | answers.email_blank),
        "phone": renderer.clean_phones(people, p, hidden | answers.phone_blank),
        "performance_rating": hide(answers.rating.astype(np.int64)),
        "submission_date": pa.array(
            answers.submitted, pa.timestamp("s"), mask=hidden | np.isnat(answers.submitted)
        ),
    }


def _defect_cell(
    reason: RowReason, row: int, answers: _Answers, people: _People, renderer: _Renderer,
    into_v2: bool, picks: Sequence[float],
) -> tuple[str, str]:
    """The (header, raw value) that gives a row exactly the defect `reason`."""
    pick, pick2, pick3 = picks

    def one_of(options: Sequence, u: float = pick):
        return options[int(u * len(options))]

    person = answers.person[row]
    employee_id = str(people.employee_id[person])
    if reason is RowReason.BAD_TYPE:
        at = 1 + int(pick3 * 5)
        options = [
            ("Employee_ID", employee_id[:at] + one_of("abcdxyz", pick2) + employee_id[at + 1 :]),
            ("Performance_Rating", one_of(("five", "four", "excellent"), pick2)),
        ]
        if into_v2:
            not_dates = ("not a date", "2025-02-30 10:00:00")
            options.append(("Submission Date", one_of(not_dates, pick2)))
        return one_of(options)
    if reason is RowReason.OUT_OF_RANGE:
        return one_of(
            [("Performance_Rating", one_of("069", pick2)), ("Employee_ID", employee_id[:5])]
        )
    if reason is RowReason.MISSING_REQUIRED:
        return one_of(renderer.vocab.required_headers), one_of(renderer.null_spelling_list, pick2)
    if reason is RowReason.BAD_EMAIL:
        local = email_local_part(FIRST_NAMES[people.first[person]])[0] + email_local_part(
            LAST_NAMES[people.last[person]]
        )
        return "Email", one_of([local + "@", local + ".example.com", "@example.com"])
    if reason is RowReason.BAD_PHONE:
        digits = _MOBILE_PREFIXES[people.phone_prefix[person]] + f"{people.phone_mid[person]:03d}"
        return "Phone_Number", one_of(["0" + digits, digits[:5]])
    if reason is RowReason.UNKNOWN_VALUE:
        return one_of(_UNKNOWN_VALUES)
    if reason is RowReason.EMPTY_AFTER_NORMALIZATION:
        return "Employee_Name", renderer.title_and_credential(pick, pick2)
    if reason is RowReason.CONTROL_CHARACTER:
        return "Employee_Name", (FIRST_NAMES[people.first[person]] + one_of(_CONTROL_CHARACTERS, pick2)
                                 + " " + LAST_NAMES[people.last[person]])
    if reason is RowReason.LINE_BREAK:  # a name pasted over two lines (written quoted, as a sheet does)
        return "Employee_Name", FIRST_NAMES[people.first[person]] + "\n" + LAST_NAMES[people.last[person]]
    raise AssertionError(f"{reason} is not a cell defect")


_LINE_DEFECTS = (RowReason.TOO_MANY_FIELDS, RowReason.TOO_FEW_FIELDS, RowReason.REPEATED_HEADER)


def _spoil_cells(
    cells: dict[str, pa.Array], answers: _Answers, people: _People, renderer: _Renderer,
    *, into_v2: bool, rng: np.random.Generator,
) -> None:
    """Write each quarantined row's one cell defect over its messy cell (a small loop)."""
    line_defects = [_DEFECTS.index(r) for r in _LINE_DEFECTS]
    rows = np.flatnonzero((answers.defect >= 0) & ~np.isin(answers.defect, line_defects))
    picks = rng.random((len(rows), 3)).tolist()
    by_header: dict[str, dict[int, str]] = {}
    for row, row_picks in zip(rows.tolist(), picks, strict=True):
        reason = _DEFECTS[answers.defect[row]]
        header, value = _defect_cell(reason, row, answers, people, renderer, into_v2, row_picks)
        by_header.setdefault(header, {})[row] = value
    for header, values in by_header.items():
        mask = np.zeros(len(answers.person), bool)
        mask[list(values)] = True
        replacements = pa.array([values[row] for row in sorted(values)], pa.string())
        cells[header] = pc.replace_with_mask(cells[header], pa.array(mask), replacements)


# Only these can hold a comma, quote or line break (a name with ", Jr.", a note); the
# vocabulary is checked to hold none, and defects never write one.
_FREE_TEXT = frozenset({"Employee_Name", NOTES_HEADER})


def _csv_field(values: pa.Array) -> pa.Array:
    """RFC 4180 quoting, only where a value holds a comma, quote or line break."""
    needs_quotes = pc.match_substring_regex(values, r'[",\r\n]')
    if not pc.any(needs_quotes).as_py():
        return values
    quoted = _join('"', pc.replace_substring(values, '"', '""'), '"')
    return pc.if_else(needs_quotes, quoted, values)


def _csv_lines(
    fields_in_order: list[pa.Array], answers: _Answers, header_line: str, terminator: str,
    rng: np.random.Generator,
) -> pa.Array:
    """One terminated CSV record per row, with the line-level defects applied (a repeated header
    is `header_line` again, as where two exports were joined)."""
    *leading, last = fields_in_order
    too_many = answers.defect == _DEFECTS.index(RowReason.TOO_MANY_FIELDS)
    endings = pa.array([terminator, *(f",{extra}{terminator}" for extra in _EXTRA_FIELDS)])
    ending = np.where(too_many, rng.integers(1, len(endings), size=len(too_many)), 0)
    lines = pc.binary_join_element_wise(*leading, _join(last, endings.take(ending)), ",")
    too_few = answers.defect == _DEFECTS.index(RowReason.TOO_FEW_FIELDS)
    if too_few.any():
        mask = pa.array(too_few)
        shortened = pc.binary_join_element_wise(*(f.filter(mask) for f in leading), ",")
        lines = pc.replace_with_mask(lines, mask, _join(shortened, terminator))
    repeated = answers.defect == _DEFECTS.index(RowReason.REPEATED_HEADER)
    if repeated.any():
        header_again = pa.repeat(header_line + terminator, int(repeated.sum()))
        lines = pc.replace_with_mask(lines, pa.array(repeated), header_again)
    return lines


def _utf8_bytes(strings: pa.Array) -> bytes:
    """All values back to back, straight from the Arrow data buffer."""
    if len(strings) == 0:
        return b""
    offset_type = np.int64 if pa.types.is_large_string(strings.type) else np.int32
    offsets = np.frombuffer(strings.buffers()[1], offset_type)
    offsets = offsets[strings.offset : strings.offset + len(strings) + 1]
    return bytes(memoryview(strings.buffers()[2])[offsets[0] : offsets[-1]])


def _write_export(path: Path, text: bytes, layout: FileLayout) -> None:
    path.write_bytes(_encode(text, layout))


def _encode(text: bytes, layout: FileLayout) -> bytes:
    if layout.encoding == "utf-8":
        payload = text
    elif layout.encoding == "utf-8-sig":
        payload = b"\xef\xbb\xbf" + text
    elif layout.encoding == "utf-16":
        payload = b"\xff\xfe" + text.decode("utf-8").encode("utf-16-le")
    else:  # names in Latin-1 files are drawn encodable, so a failure here is a generator bug
        payload = text.decode("utf-8").encode(layout.encoding)
    return gzip.compress(payload, compresslevel=1, mtime=0) if layout.gzip else payload


def _choose_header(layout: FileLayout, *, into_v2: bool, rng: np.random.Generator) -> list[str]:
    """Source columns in written order (v1/v2 names, plus Notes)."""
    headers = list(V2_HEADER if into_v2 else V1_HEADER)
    if layout.notes_column:
        headers.insert(int(rng.integers(len(headers) + 1)), NOTES_HEADER)
    if layout.reorder_columns:
        order = rng.permutation(len(headers))
        if np.array_equal(order, np.arange(len(headers))):
            order = np.roll(order, 1)
        headers = [headers[i] for i in order]
    return headers


def _notes(n: int, rng: np.random.Generator) -> pa.Array:
    which = rng.choice(len(_NOTES), size=n, p=_NOTES_WEIGHTS)
    which[:1] = _MULTILINE_NOTE  # every notes file shows at least one record spanning two lines
    return pa.array(_NOTES).take(which)


@dataclass(frozen=True)
class _WrittenFile:
    key: pa.Table
    """answer-key rows"""
    entry: dict
    """files.json entry"""
    layout: dict
    """layout.json entry"""
    repeats: int
    bytes_written: Future[None]


def _write_data_file(
    out_dir: Path, file_index: int, quota: _FileQuota, *, files: int, into_v2: bool, first_defect: int,
    layout: FileLayout, people: _People, renderer: _Renderer, rng: np.random.Generator,
    writer: ThreadPoolExecutor,
) -> _WrittenFile:
    """Write one export and describe it for the answer key."""
    latin1_only = layout.encoding == "latin-1"
    answers, repeats = _draw_answers(
        quota, file_index=file_index, files=files, into_v2=into_v2, latin1_only=latin1_only,
        first_defect=first_defect, people=people, rng=rng,
    )
    cells = _render_cells(answers, people, renderer, into_v2=into_v2, rng=rng)
    _spoil_cells(cells, answers, people, renderer, into_v2=into_v2, rng=rng)
    headers = _choose_header(layout, into_v2=into_v2, rng=rng)
    if layout.notes_column:
        cells[NOTES_HEADER] = _notes(len(answers.person), rng)
    fields_in_order = [_csv_field(cells[h]) if h in _FREE_TEXT else cells[h] for h in headers]
    written_header = [_RENAMED_HEADER.get(h, h) if layout.rename_headers else h for h in headers]
    lines = _csv_lines(fields_in_order, answers, ",".join(written_header), layout.line_ending, rng)
    text = (",".join(written_header) + layout.line_ending).encode("utf-8") + _utf8_bytes(lines)
    name = f"{EXPORT_PREFIX}{file_index:03d}.csv" + (".gz" if layout.gzip else "")
    written = writer.submit(_write_export, out_dir / name, text, layout)

    # A record with quoted line breaks spans several physical lines; the header is line 1.
    physical_lines = pc.count_substring(lines, "\n").to_numpy(zero_copy_only=False)
    n = len(answers.person)
    starts = 2 + np.concatenate([[0], np.cumsum(physical_lines)]).astype(np.int64)
    key = pa.table(
        {
            "file": pa.repeat(name, n),
            "line": pa.array(starts[:n], pa.int64()),
            "status": _STATUS_NAMES.take(answers.status),
            "reason_code": _REASON_CODES.take(answers.defect.astype(np.int64) + 1),
            **_clean_columns(answers, people, renderer),
        },
        schema=ROWS_SCHEMA,
    )
    counts = np.bincount(answers.status, minlength=3)
    entry = {
        "file": name, "status": "loaded", "reason": None, "rows_in": n,
        "rows_valid": int(counts[_VALID]), "rows_quarantined": int(counts[_QUARANTINED]),
        "rows_duplicate": int(counts[_DUPLICATE]),
    }
    layout_entry = {
        "file": name, "schema": "v2" if into_v2 else "v1", "encoding": layout.encoding,
        "line_ending": "CRLF" if layout.line_ending == "\r\n" else "LF", "gzip": layout.gzip,
        "header": written_header,
    }
    return _WrittenFile(key, entry, layout_entry, repeats, written)


def _write_data_files(
    out_dir: Path, quotas: list[_FileQuota], *, schema: str, file_mess: bool, people: _People,
    renderer: _Renderer, rng: np.random.Generator, progress: Callable[[int, int], None] | None,
) -> list[_WrittenFile]:
    written: list[_WrittenFile] = []
    repeats_owed = 0  # repeats a file could not place (too few eligible people) move on to the next
    # Encoding, compressing and writing one file overlaps with drawing the next (2 cores).
    with ThreadPoolExecutor(max_workers=1) as writer:
        for index, quota in enumerate(quotas):
            messy = file_mess and index > 0  # file 0 stays plain UTF-8 with LF
            layout = MESSY_LAYOUTS[(index - 1) % len(MESSY_LAYOUTS)] if messy else PLAIN_LAYOUT
            into_v2 = schema == "v2" or (schema == "mixed" and index % 2 == 1)
            wanted = min(quota.repeat + repeats_owed, quota.rows - quota.bad - quota.duplicate)
            export = _write_data_file(
                out_dir, index, replace(quota, repeat=wanted), files=len(quotas), into_v2=into_v2,
                first_defect=sum(q.bad for q in quotas[:index]), layout=layout, people=people,
                renderer=renderer, rng=rng, writer=writer,
            )
            repeats_owed += quota.repeat - export.repeats
            written.append(export)
            if progress is not None:
                progress(sum(w.entry["rows_in"] for w in written), sum(q.rows for q in quotas))
        for export in written:
            export.bytes_written.result()  # re-raise a failed write here
    return written


def _write_rejected_files(
    out_dir: Path, renderer: _Renderer, rng: np.random.Generator
) -> list[tuple[str, FileReason, list[str] | None]]:
    """Files the pipeline must reject whole: empty, binary, and one without the id column."""
    (out_dir / f"{EXPORT_PREFIX}empty.csv").write_bytes(b"")
    png_signature = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    binary = png_signature + rng.bytes(2048) + b"\x00" * 16
    (out_dir / f"{EXPORT_PREFIX}binary.csv").write_bytes(binary)
    header = [h for h in V1_HEADER if h != "Employee_ID"]
    records = []
    for _ in range(4):
        first, last = rng.integers(len(FIRST_NAMES)), rng.integers(len(LAST_NAMES))
        records.append(
            [
                f"{FIRST_NAMES[first]} {LAST_NAMES[last]}",
                renderer.vocab.degrees[rng.integers(len(renderer.vocab.degrees))],
                renderer.vocab.departments[rng.integers(len(renderer.vocab.departments))],
                renderer.roles[int(rng.integers(len(renderer.roles)))].as_py(),
                renderer.vocab.campuses[rng.integers(len(renderer.vocab.campuses))],
                email_local_part(FIRST_NAMES[first]) + "." + email_local_part(LAST_NAMES[last])
                + "@example.com",
                "+63917" + f"{rng.integers(10_000_000):07d}",
                str(rng.integers(1, 6)),
            ]
        )
    text = "\n".join(",".join(r) for r in [header, *records]) + "\n"
    (out_dir / f"{EXPORT_PREFIX}noid.csv").write_bytes(text.encode("utf-8"))
    return [
        (f"{EXPORT_PREFIX}empty.csv", FileReason.EMPTY_FILE, None),
        (f"{EXPORT_PREFIX}binary.csv", FileReason.NOT_TEXT, None),
        (f"{EXPORT_PREFIX}noid.csv", FileReason.MISSING_REQUIRED_COLUMNS, header),
    ]


def _clear_previous_generation(out_dir: Path) -> None:
    """Regenerating into a folder replaces its exports and key, so no stale file is ingested."""
    for stale in out_dir.glob(f"{EXPORT_PREFIX}*"):
        stale.unlink()
    shutil.rmtree(out_dir / KEY_DIR_NAME, ignore_errors=True)


def _check_arguments(rows: int, files: int, schema: str, rates: dict[str, float]) -> None:
    if rows < 0 or files < 1:
        raise UsageError(f"need rows >= 0 and files >= 1, got rows={rows}, files={files}")
    if schema not in SCHEMAS:
        raise UsageError(f"schema must be one of {', '.join(SCHEMAS)}, got {schema!r}")
    for name, rate in rates.items():
        if not 0.0 <= rate <= 1.0:
            raise UsageError(f"{name} must be between 0 and 1, got {rate}")
    if sum(rates.values()) >= 1.0:
        raise UsageError(
            f"bad_rate + dup_rate + repeat_rate must stay below 1, got {sum(rates.values())}"
        )


def generate_alumni(
    out_dir: Path,
    *,
    rows: int,
    files: int,
    seed: int,
    schema: str = "mixed",
    bad_rate: float = 0.02,
    dup_rate: float = 0.02,
    repeat_rate: float = 0.05,
    file_mess: bool = True,
    bad_files: bool = True,
    excellent_threshold: int = 5,
    progress: Callable[[int, int], None] | None = None,
) -> GenerationManifest:
    """Write `files` alumni-survey CSV exports holding `rows` records, and their answer key.

    The same arguments give byte-identical files. `schema` "mixed" alternates v1 (file 0) and
    v2 files. `progress(rows_written, rows)` is called after each data file.
    """
    rates = {"bad_rate": bad_rate, "dup_rate": dup_rate, "repeat_rate": repeat_rate}
    _check_arguments(rows, files, schema, rates)
    settings = load_settings()
    vocab = _Vocabulary.from_settings(settings)
    quotas = _plan_quotas(rows, files, bad_rate, dup_rate, repeat_rate)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear_previous_generation(out_dir)

    rng = np.random.Generator(np.random.PCG64(seed))
    renderer = _Renderer(vocab, rng)
    people = _People(min(rows, MAX_EMPLOYEE_ID - MIN_EMPLOYEE_ID + 1), vocab, rng)
    try:
        written = _write_data_files(
            out_dir, quotas, schema=schema, file_mess=file_mess, people=people, renderer=renderer,
            rng=rng, progress=progress,
        )
    except BaseException:  # whatever stopped it, no half a generation is left to be ingested
        _clear_previous_generation(out_dir)
        raise
    entries = [w.entry for w in written]
    layouts = [w.layout for w in written]
    rejected = _write_rejected_files(out_dir, renderer, rng) if bad_files else []
    for name, reason, header in rejected:
        entries.append(
            {"file": name, "status": "rejected", "reason": str(reason), "rows_in": 0,
             "rows_valid": 0, "rows_quarantined": 0, "rows_duplicate": 0}
        )
        layouts.append({"file": name, "schema": None, "encoding": None, "line_ending": None,
                        "gzip": False, "header": header})

    key_dir = out_dir / KEY_DIR_NAME
    alumni = write_answer_key(
        key_dir, rows=pa.concat_tables([w.key for w in written]), files=entries, layouts=layouts,
        excellent_threshold=excellent_threshold, top_n=vocab.top_n,
    )
    loaded = [e for e in entries if e["status"] == "loaded"]
    return GenerationManifest(
        out_dir=out_dir,
        files=tuple(out_dir / e["file"] for e in entries),
        rejected_files=tuple(out_dir / name for name, _, _ in rejected),
        answer_key_dir=key_dir,
        rows=sum(e["rows_in"] for e in loaded),
        rows_valid=sum(e["rows_valid"] for e in loaded),
        rows_quarantined=sum(e["rows_quarantined"] for e in loaded),
        rows_duplicate=sum(e["rows_duplicate"] for e in loaded),
        alumni=alumni,
    )
