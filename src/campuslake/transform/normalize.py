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

# Unicode spaces that survive a naive trim in real exports (no-break space, BOM, ideographic space).
_SPACE = r"[\s\x{00A0}\x{2007}\x{202F}\x{3000}\x{FEFF}]"


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(sql_literal(v) for v in values) + ")"


def collapse_spaces(expr: str, _config: NormalizationConfig | None = None) -> str:
    """Trim outer spaces and collapse inner runs of spaces to one; empty becomes NULL."""
    trimmed = f"regexp_replace({expr}, '^{_SPACE}+|{_SPACE}+$', '', 'g')"
    return f"nullif(regexp_replace({trimmed}, '{_SPACE}+', ' ', 'g'), '')"


def _token_pattern(token: str) -> str:
    # "phd" also matches "Ph.D." and "p.h.d": an optional dot may follow every letter.
    return r"\.?".join(re.escape(ch) for ch in token.lower()) + r"\.?"


def strip_honorifics(expr: str, config: NormalizationConfig) -> str:
    """Remove leading titles (Mr., DR, mrs ...) in any case; repeated titles all go."""
    if not config.honorifics:
        return expr
    alternatives = "|".join(_token_pattern(h) for h in sorted(config.honorifics, key=len, reverse=True))
    stripped = f"regexp_replace({expr}, '^(?:(?:{alternatives})(?:{_SPACE}+|$))+', '', 'i')"
    return collapse_spaces(stripped)


def strip_suffixes(expr: str, config: NormalizationConfig) -> str:
    """Remove trailing credentials (MD, dDs, Ph.D., JR., ", Sr.") in any case, repeatedly."""
    if not config.suffixes:
        return expr
    alternatives = "|".join(_token_pattern(s) for s in sorted(config.suffixes, key=len, reverse=True))
    stripped = (f"regexp_replace({expr}, '(?:(?:^|{_SPACE}*,{_SPACE}*|{_SPACE}+)(?:{alternatives}))+"
                f"[{_SPACE[1:-1]},]*$', '', 'i')")
    return collapse_spaces(f"regexp_replace({stripped}, '[{_SPACE[1:-1]},]+$', '', 'g')")


def title_case(expr: str, config: NormalizationConfig) -> str:
    """Capitalize each word and each part after '-' or an apostrophe; acronyms stay upper-case."""
    def capitalize_parts(word: str, separator: str, inner: Callable[[str], str]) -> str:
        sep = sql_literal(separator)
        return f"array_to_string(list_transform(string_split({word}, {sep}), lambda p: {inner('p')}), {sep})"

    def capitalize(part: str) -> str:
        return f"upper(left({part}, 1)) || substr({part}, 2)"

    word = capitalize_parts("w", "-", lambda p: capitalize_parts(p, "'", capitalize))
    acronyms = sorted({a.lower() for a in config.acronyms})
    if acronyms:
        word = f"CASE WHEN w IN {sql_list(acronyms)} THEN upper(w) ELSE {word} END"
    return f"array_to_string(list_transform(string_split(lower({expr}), ' '), lambda w: {word}), ' ')"


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
    spaced = f"regexp_replace(replace(lower({expr}), '.', ''), '[^[:alnum:]&+#]+', ' ', 'g')"
    return f"trim({spaced})"


def python_match_key(value: str) -> str:
    """The same key computed in Python, for building the lookup from the contract."""
    spaced = re.sub(r"[^\w&+#]+|_", " ", value.lower().replace(".", ""))
    return " ".join(spaced.split())


def canonical_value(expr: str, spellings: dict[str, str]) -> str:
    """Map `expr` to its canonical value through `spellings` (match key -> canonical), else NULL."""
    cases = " ".join(f"WHEN {sql_literal(k)} THEN {sql_literal(v)}" for k, v in sorted(spellings.items()))
    return f"CASE {match_key(expr)} {cases} END"


EMAIL_PATTERN = (r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                 r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def email(expr: str) -> tuple[str, str]:
    """(normalized, is_valid) SQL: trimmed and lower-cased; the domain is never rewritten."""
    normalized = f"lower({collapse_spaces(expr)})"
    return normalized, f"regexp_full_match({normalized}, {sql_literal(EMAIL_PATTERN)})"


def phone_digits(expr: str) -> str:
    """Drop formatting (spaces, dashes, dots, parentheses, slashes) but keep a leading '+'."""
    return f"nullif(regexp_replace({expr}, '[{_SPACE[1:-1]}().\\-/]', '', 'g'), '')"


def phone_e164(digits: str, region: str) -> str:
    """E.164 for numbers written in `region`'s national forms, in SQL; NULL where SQL can't decide.

    Decides `9171234567`, `09171234567`, `639171234567` and `+639171234567` for PH. Other
    numbers (other countries, odd prefixes) are left to `phone_e164_python`.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
    if metadata is None:
        raise ConfigError(f"unknown phone region {region!r}: use an ISO code such as PH or US")
    national = metadata.general_desc.national_number_pattern
    code = str(metadata.country_code)
    prefix = metadata.national_prefix or ""
    with_code = sql_literal(r"\+?" + code + f"({national})")
    after_code = sql_literal(r"^\+?" + code + "(.*)$")
    cases = [f"WHEN regexp_full_match({digits}, {with_code}) "
             f"THEN '+{code}' || regexp_extract({digits}, {after_code}, 1)"]
    if prefix:
        with_prefix = sql_literal(re.escape(prefix) + f"({national})")
        cases.append(f"WHEN regexp_full_match({digits}, {with_prefix}) "
                     f"THEN '+{code}' || substr({digits}, {len(prefix) + 1})")
    bare = sql_literal(f"({national})")
    cases.append(f"WHEN regexp_full_match({digits}, {bare}) THEN '+{code}' || {digits}")
    return "CASE " + " ".join(cases) + " END"


def phone_e164_python(raw: str, region: str) -> str | None:
    """E.164 via libphonenumber for what SQL cannot decide; None when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def timestamp(expr: str, formats: list[str]) -> str:
    """The first format that parses wins; NULL when none does."""
    if not formats:
        return f"TRY_CAST({expr} AS TIMESTAMP)"
    return f"try_strptime({expr}, [{', '.join(sql_literal(f) for f in formats)}])"
