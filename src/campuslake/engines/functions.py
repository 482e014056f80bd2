"""SQL functions campuslake's SQL may call that not every engine has built in.

Each is vectorized over Arrow arrays (one call per batch of rows, never per row); every engine
registers them under the same names, so stage SQL stays engine-neutral.
"""

from __future__ import annotations

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
    words = [w for w in (acronyms[0].as_py() or "").split("|") if w] if len(acronyms) else []
    if not words:
        return titled
    alternatives = "|".join(re.escape(w) for w in words)
    # Word boundaries by Unicode letters and digits (RE2's \b is ASCII-only: "itō" is no "it").
    edge = r"(^|[^\p{L}\p{N}])"
    end = r"([^\p{L}\p{N}]|$)"
    # Only the few rows holding an acronym pay for the per-acronym replacements.
    mask = pc.fill_null(pc.match_substring_regex(titled, f"{edge}({alternatives}){end}", ignore_case=True), False)
    if not pc.any(mask).as_py():
        return titled
    fixed = titled.filter(mask)
    for word in words:
        titled_word = pc.utf8_title(pa.array([word]))[0].as_py()
        if titled_word != word.upper():
            for _ in range(2):  # a match consumes its edge, so "Hr Hr" needs a second pass
                fixed = pc.replace_substring_regex(fixed, f"{edge}{re.escape(titled_word)}{end}",
                                                   rf"\1{word.upper()}\2")
    return pc.replace_with_mask(titled, mask, fixed)


SQL_FUNCTIONS: dict[str, tuple[int, Callable[..., pa.Array]]] = {
    "title_case_words": (2, title_case_words),
}
"""name -> (number of VARCHAR arguments, function over Arrow arrays returning VARCHAR)"""
