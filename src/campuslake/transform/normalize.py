"""Normalization rules as SQL expression builders, declared per column in the contract.

Every rule maps a SQL expression of type VARCHAR to another, returns NULL for "nothing left",
and is idempotent. Rules are plain SQL (DuckDB dialect), so every engine runs the same text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import phonenumbers

from campuslake.config import NormalizationConfig
from campuslake.errors import ConfigError
from campuslake.registry import did_you_mean
from campuslake.sqltext import sql_literal

# Every character Python's str.isspace() accepts, plus the BOM: RE2's \s is ASCII only, so the
# vertical tab, separators (\p{Z}: no-break, em, ideographic, line/paragraph), NEL and the
# information separators that str.split() drops are listed explicitly.
_SPACE = r"[\s\v\p{Z}\x{001C}-\x{001F}\x{0085}\x{FEFF}]"


def sql_in(expr: str, values: Iterable[str | int]) -> str:
    """`expr` is one of `values`. Neither `IN (...)` nor list_contains: DuckDB plans both as a
    join against the constants, run over every row even where a CASE guards the test (~4% of
    the classify statement); list_position is evaluated in place, on the guarded rows only."""
    items = ", ".join(sql_literal(v) if isinstance(v, str) else str(v) for v in values)
    return f"(list_position([{items}], {expr}) IS NOT NULL)"


def collapse_spaces(expr: str, _config: NormalizationConfig | None = None) -> str:
    """Trim outer spaces and collapse inner runs of spaces to one. The reader does this for every
    contract cell as it splits the file (campuslake.ingest.csv_split), so rules see collapsed text
    and the rule itself changes nothing more; contracts may still list it."""
    return expr


def _token_pattern(token: str) -> str:
    # "phd" also matches "Ph.D." and "p.h.d": an optional dot may follow every letter.
    return r"\.?".join(re.escape(ch) for ch in token.lower()) + r"\.?"


def strip_honorifics(expr: str, config: NormalizationConfig) -> str:
    """Remove leading titles (Mr., DR, mrs ...) in any case; repeated titles all go."""
    if not config.honorifics:
        return expr
    alternatives = "|".join(_token_pattern(h) for h in sorted(config.honorifics, key=len, reverse=True))
    return f"nullif(regexp_replace({expr}, '^(?:(?:{alternatives})(?:{_SPACE}+|$))+', '', 'i'), '')"


def strip_suffixes(expr: str, config: NormalizationConfig) -> str:
    """Remove trailing credentials (MD, dDs, Ph.D., JR., ", Sr.") in any case, repeatedly."""
    if not config.suffixes:
        return expr
    alternatives = "|".join(_token_pattern(s) for s in sorted(config.suffixes, key=len, reverse=True))
    stripped = (f"regexp_replace({expr}, '(?:(?:^|{_SPACE}*,{_SPACE}*|{_SPACE}+)(?:{alternatives}))+"
                f"[{_SPACE[1:-1]},]*$', '', 'i')")
    return f"nullif(regexp_replace({stripped}, '[{_SPACE[1:-1]},]+$', '', 'g'), '')"


def title_case(expr: str, config: NormalizationConfig) -> str:
    """Capitalize the first letter after any non-letter (`o'neil-cruz` -> `O'Neil-Cruz`), lower
    the rest; the configured acronyms stay upper-case (`hr specialist` -> `HR Specialist`)."""
    acronyms = "|".join(sorted({a.lower() for a in config.acronyms}))
    return f"title_case_words({expr}, {sql_literal(acronyms)})"


def lower(expr: str, _config: NormalizationConfig | None = None) -> str:
    return f"lower({expr})"


def upper(expr: str, _config: NormalizationConfig | None = None) -> str:
    return f"upper({expr})"


RULES: dict[str, Callable[[str, NormalizationConfig], str]] = {
    "collapse_spaces": collapse_spaces,
    "strip_honorifics": strip_honorifics,
    "strip_suffixes": strip_suffixes,
    "title_case": title_case,
    "lower": lower,
    "upper": upper,
}


CASE_FOLDING_RULES = frozenset({"title_case", "lower", "upper"})
EMPTYING_RULES = frozenset({"strip_honorifics", "strip_suffixes"})
"""rules that may leave nothing of a value (a name that is only titles): the others never do"""


def folds_case(rules: list[str]) -> bool:
    """True when the result of `rules` does not depend on the case of the input: every rule
    matches without regard to case, so one that sets the case makes the whole chain blind to it."""
    return any(rule in CASE_FOLDING_RULES for rule in rules)


def apply_rules(expr: str, rules: list[str], config: NormalizationConfig) -> str:
    """Compose the named rules, in order, around `expr`."""
    for name in rules:
        if name not in RULES:
            raise ConfigError(f"unknown normalization rule {name!r}{did_you_mean(name, RULES)}")
        expr = RULES[name](expr, config)
    return expr


def match_key(expr: str) -> str:
    """Key for matching spellings: lower case, dots dropped, other punctuation as spaces.

    `H.R. Specialist`, ` hr  SPECIALIST` and `hr-specialist` share the key `hr specialist`.
    """
    # \p{L}\p{N} (not ASCII [:alnum:]) so the key keeps accented letters, as python_match_key's \w does.
    spaced = rf"regexp_replace(replace(lower({expr}), '.', ''), '[^\p{{L}}\p{{N}}&+#]+', ' ', 'g')"
    return f"trim({spaced})"


def python_match_key(value: str) -> str:
    """The same key computed in Python, for building the lookup from the contract."""
    spaced = re.sub(r"[^\w&+#]+|_", " ", value.lower().replace(".", ""))
    return " ".join(spaced.split())


def canonical_value(expr: str, spellings: dict[str, str]) -> str:
    """Map `expr` to its canonical value through `spellings` (match key -> canonical), else NULL."""
    if not spellings:
        return "CAST(NULL AS VARCHAR)"
    # One map lookup computes the key once; a CASE with a WHEN per spelling re-evaluated the
    # whole key expression per branch (30x slower on the contract's job_role column).
    entries = ", ".join(f"{sql_literal(k)}: {sql_literal(v)}" for k, v in sorted(spellings.items()))
    return f"MAP {{{entries}}}[{match_key(expr)}]"


EMAIL_PATTERN = (r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                 r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def email(expr: str) -> tuple[str, str]:
    """(normalized, is_valid) SQL over a collapsed value: lower-cased; the domain is never rewritten."""
    normalized = f"lower({expr})"
    return normalized, f"regexp_full_match({normalized}, {sql_literal(EMAIL_PATTERN)})"


def phone_digits(expr: str) -> str:
    """Drop formatting (spaces, dashes, dots, parentheses, slashes) but keep a leading '+'. The
    value is collapsed, so its only space is ' '."""
    return f"nullif(regexp_replace({expr}, '[ ().\\-/]', '', 'g'), '')"


# The number types libphonenumber tries in is_valid_number; a number is valid when one matches.
# Mobile first: the conditions short-circuit, and survey phones are mostly mobiles.
_NUMBER_TYPES = ("mobile", "fixed_line", "toll_free", "premium_rate", "shared_cost", "personal_number",
                 "voip", "pager", "uan", "voicemail")


def _matches_desc(national: str, desc: phonenumbers.PhoneNumberDesc | None) -> str | None:
    """SQL: `national` fits `desc` (its pattern in full and, when declared, one of its lengths)."""
    if desc is None or not desc.national_number_pattern or list(desc.possible_length) == [-1]:
        return None
    condition = f"regexp_full_match({national}, {sql_literal(desc.national_number_pattern)})"
    if desc.possible_length:
        condition = f"{sql_in(f'length({national})', sorted(desc.possible_length))} AND {condition}"
    return condition


def _valid_national(national: str, metadata: phonenumbers.PhoneMetadata) -> str:
    """SQL: `national` is a valid number of the region, by the rules of is_valid_number.

    The general pattern alone also accepts numbers no carrier assigns (`9000000000` in PH), so
    each number type's pattern and lengths are checked, as libphonenumber does.
    """
    general = _matches_desc(national, metadata.general_desc)
    kinds = [c for c in (_matches_desc(national, getattr(metadata, k, None)) for k in _NUMBER_TYPES) if c]
    if general is None or not kinds:
        return "false"
    return f"({general} AND ({' OR '.join(f'({k})' for k in kinds)}))"


def _phone_metadata(region: str) -> phonenumbers.PhoneMetadata:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
    if metadata is None:
        raise ConfigError(f"unknown phone region {region!r}: use an ISO code such as PH or US")
    return metadata


def phone_national(digits: str, region: str) -> str:
    """SQL: the national number in `digits` when it is written in one of `region`'s forms
    (`9171234567`, `09171234567`, `639171234567`, `+639171234567` for PH), else NULL.

    A stage of its own, so phone_e164 tests one column instead of a substr() per form and use.
    """
    metadata = _phone_metadata(region)
    code = str(metadata.country_code)
    general_pattern = sql_literal(metadata.general_desc.national_number_pattern or "")
    forms = [f"WHEN starts_with({digits}, '+{code}') THEN substr({digits}, {len(code) + 2})",
             f"WHEN starts_with({digits}, '+') THEN NULL",
             # Without '+', libphonenumber reads a leading country code only when the whole string
             # is not itself a plausible national number; the same test keeps both answers equal.
             f"WHEN starts_with({digits}, '{code}') AND NOT regexp_full_match({digits}, {general_pattern}) "
             f"THEN substr({digits}, {len(code) + 1})"]
    if metadata.national_prefix:
        forms.append(f"WHEN starts_with({digits}, {sql_literal(metadata.national_prefix)}) "
                     f"THEN substr({digits}, {len(metadata.national_prefix) + 1})")
    return f"CASE WHEN regexp_full_match({digits}, '[+]?[0-9]+') THEN CASE {' '.join(forms)} ELSE {digits} END END"


def phone_e164(national: str, region: str) -> str:
    """E.164 for a valid national number of `region` (from phone_national), in SQL; NULL where
    SQL can't decide.

    Only numbers libphonenumber calls valid get an answer. Other numbers (other countries, odd
    prefixes, invalid numbers) are left to `phone_e164_python`, which has the last word.
    """
    metadata = _phone_metadata(region)
    return f"CASE WHEN {_valid_national(national, metadata)} THEN '+{metadata.country_code}' || {national} END"


def phone_e164_python(raw: str, region: str) -> str | None:
    """E.164 via libphonenumber for what SQL cannot decide; None when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# A strptime directive (`%Y`, `%-d`, `%%`): what is left of a format is text the value must hold.
_DIRECTIVE = re.compile(r"%-?.")


def timestamp(expr: str, formats: list[str]) -> str:
    """The first format that parses wins; NULL when none does.

    Each format is tried only on values holding every character it takes literally (`T`, `/`,
    `-`, `:`; spaces match loosely, so they are left out): a value of one form skips the
    formats of the others, where a list of formats tried them in turn (~10% of the classify
    statement with the contract's five formats).
    """
    if not formats:
        return f"TRY_CAST({expr} AS TIMESTAMP)"
    attempts = []
    for form in formats:
        attempt = f"try_strptime({expr}, {sql_literal(form)})"
        literal = sorted({ch for ch in _DIRECTIVE.sub("", form) if not ch.isspace()})
        if literal:
            held = " AND ".join(f"contains({expr}, {sql_literal(ch)})" for ch in literal)
            attempt = f"CASE WHEN {held} THEN {attempt} END"
        attempts.append(attempt)
    return attempts[0] if len(attempts) == 1 else f"coalesce({', '.join(attempts)})"
