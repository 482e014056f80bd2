"""SQL functions campuslake's SQL may call that not every engine has built in.

Each is vectorized over Arrow arrays (one call per batch of rows, never per row); every engine
registers them under the same names, so stage SQL stays engine-neutral.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc


def title_case_words(values: pa.Array, acronyms: pa.Array) -> pa.Array:
    """`title_case_words(text, 'hr|it')`: upper-case the first letter after any non-letter, lower
    the rest, and write the listed acronyms (lower-case, `|`-separated) in capitals.

    DuckDB has no initcap, and list lambdas splitting words cost ~7x more (docs/decisions.md).
    """
    titled = pc.utf8_title(values)
    if isinstance(titled, pa.ChunkedArray):
        titled = titled.combine_chunks()
    words = frozenset(w for w in (acronyms[0].as_py() or "").split("|") if w) if len(acronyms) else frozenset()
    if not words:
        return titled
    # One pattern of the acronyms as title case writes them ("Hr", "R&D") finds the few rows that
    # may hold one; only those are fixed, word by word. Word edges in the pattern cost ~2.5 ms a
    # call to compile (7x the rest); a substring test per acronym cost 4x this plain alternation.
    mask = pc.fill_null(pc.match_substring_regex(titled, _title_forms_pattern(words)), False)
    if not pc.any(mask).as_py():
        return titled
    fixed = [_upper_acronyms(text, words) for text in titled.filter(mask).to_pylist()]
    return pc.replace_with_mask(titled, mask, pa.array(fixed, pa.string()))


@functools.cache
def _title_forms_pattern(words: frozenset[str]) -> str:
    forms = sorted(set(pc.utf8_title(pa.array(sorted(words), pa.string())).to_pylist()))
    return "|".join(re.escape(form) for form in forms)


_WORD = re.compile(r"[^\W_]+|[\W_]+")


def _upper_acronyms(text: str, words: frozenset[str]) -> str:
    return "".join(part.upper() if part.lower() in words else part for part in _WORD.findall(text))


SQL_FUNCTIONS: dict[str, tuple[int, Callable[..., pa.Array]]] = {
    "title_case_words": (2, title_case_words),
}
"""name -> (number of VARCHAR arguments, function over Arrow arrays returning VARCHAR)"""
