"""Name lookups that suggest the closest valid name on a typo."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean X?)' for the closest choice, or a list of the valid names."""
    options = sorted(choices)
    close = difflib.get_close_matches(name, options, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; valid names are {', '.join(options)}" if options else ""
