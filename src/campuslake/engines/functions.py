"""SQL functions campuslake's SQL may call that not every engine has built in.

Each is vectorized over Arrow arrays (one call per batch of rows, never per row); every engine
registers them under the same names, so stage SQL stays engine-neutral.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc


def title_case_words(values: pa.Array) -> pa.Array:
    """Upper-case the first letter after any non-letter, lower-case the rest: `o'neil-cruz` ->
    `O'Neil-Cruz`. DuckDB has no initcap; list lambdas cost ~7x more (docs/decisions.md)."""
    return pc.utf8_title(values)


SQL_FUNCTIONS: dict[str, Callable[[pa.Array], pa.Array]] = {
    "title_case_words": title_case_words,
}
"""name -> (VARCHAR) -> VARCHAR function over Arrow arrays"""
