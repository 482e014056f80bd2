"""A straightforward pandas implementation of the alumni rules: the baseline campuslake is compared to.

Not production code. One process reads every file whole, cleans the columns with vectorized
pandas string methods (no per-row apply), drops exact duplicates, keeps the latest row per
employee_id and writes Parquet. The lists (null tokens, honorifics, suffixes, canonical
spellings, timestamp formats, ranges) come from the same config campuslake uses.

Simplifications, on purpose: lines with too many or too few fields are skipped by the CSV reader
(pandas' pyarrow engine, which also splits a quoted value at its line break) and counted as
quarantined, a record that runs over several lines as one; phones are PH mobiles only (+639XXXXXXXXX);
names are title-cased with plain `str.title()`.

    python bench/pandas_baseline.py --out DIR FILE.csv ...   # prints the accounting as JSON
"""

from __future__ import annotations

import argparse
import io
import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from campuslake.config import ColumnSpec, load_settings

EMAIL = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
PH_MOBILE = r"^(?:\+?63|0)?(9\d{9})$"


def header_key(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def token_pattern(token: str) -> str:
    """'phd' also matches 'Ph.D.': an optional dot may follow every letter."""
    return r"\.?".join(re.escape(ch) for ch in token.lower()) + r"\.?"


def spelling_key(values: pd.Series) -> pd.Series:
    """Lower case, dots dropped, other punctuation as one space: 'H.R. spec' -> 'hr spec'."""
    spaced = values.str.lower().str.replace(".", "", regex=False).str.replace(r"[^\w&+#]+|_", " ", regex=True)
    return spaced.str.strip()


def canonical_lookup(spec: ColumnSpec) -> dict[str, str]:
    pairs = [(v, v) for v in spec.allowed or []]
    pairs += [(s, value) for value, spellings in (spec.canonical or {}).items() for s in [value, *spellings]]
    keys = spelling_key(pd.Series([s for s, _ in pairs], dtype="str"))
    return dict(zip(keys, [value for _, value in pairs], strict=True))


def record_count(data: bytes) -> int:
    """Records of a CSV text, the header's included: the line ends outside quotes (an even number
    of quotes before them), and a last line without one."""
    text = np.frombuffer(data, np.uint8)
    quotes = np.flatnonzero(text == ord('"'))
    line_ends = np.flatnonzero(text == ord("\n"))
    return int((np.searchsorted(quotes, line_ends) % 2 == 0).sum()) + (not data.endswith(b"\n"))


def read_files(paths: list[Path], aliases: dict[str, str]) -> tuple[pd.DataFrame, int]:
    """All files as one frame of strings (+ file order and line); returns it and the records read."""
    frames, records = [], 0
    for order, path in enumerate(paths):
        data = path.read_bytes()
        records += record_count(data) - 1
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, on_bad_lines="skip",
                            engine="pyarrow")
        frame = frame.rename(columns=lambda h: aliases.get(header_key(h), h))
        frames.append(frame.assign(_file=order, _line=range(len(frame))))
    return pd.concat(frames, ignore_index=True), records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for alumni.parquet and alumni_current.parquet")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    started = time.perf_counter()

    settings = load_settings()
    contract, rules = settings.dataset("alumni"), settings.normalization
    aliases = {header_key(a): c.name for c in contract.columns for a in [c.name, *c.aliases]}
    df, records = read_files(args.files, aliases)

    nulls = {t.strip().lower() for t in contract.null_tokens}
    present: dict[str, pd.Series] = {}
    for spec in contract.columns:
        cells = df[spec.name] if spec.name in df else pd.Series(pd.NA, index=df.index, dtype="str")
        cells = cells.str.strip().str.replace(r"\s+", " ", regex=True)
        present[spec.name] = cells.mask(cells.str.lower().isin(nulls) | cells.isna())

    out = pd.DataFrame(index=df.index)
    bad = pd.Series(False, index=df.index)
    for spec in contract.columns:
        value = present[spec.name]
        if spec.required:
            bad |= value.isna()
        if spec.name == "employee_name":
            honorifics = "|".join(token_pattern(h) for h in sorted(rules.honorifics, key=len, reverse=True))
            suffixes = "|".join(token_pattern(s) for s in sorted(rules.suffixes, key=len, reverse=True))
            name = value.str.replace(rf"^(?:(?:{honorifics})(?:\s+|$))+", "", regex=True, flags=re.IGNORECASE)
            name = name.str.replace(rf"(?:(?:^|\s*,\s*|\s+)(?:{suffixes}))+[\s,]*$", "", regex=True,
                                    flags=re.IGNORECASE)
            name = name.str.strip(" ,").str.title()
            typed = name.mask(name == "")
        elif spec.allowed or spec.canonical:
            typed = spelling_key(value).map(canonical_lookup(spec))
        elif spec.type == "integer":
            whole = value.str.fullmatch(r"[+-]?\d{1,18}").fillna(False).astype(bool)
            typed = pd.to_numeric(value.where(whole), errors="coerce").astype("Int64")
            bad |= (typed < spec.min).fillna(False) | (typed > spec.max).fillna(False)
        elif spec.type == "email":
            lowered = value.str.lower()
            typed = lowered.where(lowered.str.fullmatch(EMAIL).fillna(False).astype(bool))
        elif spec.type == "phone":
            digits = value.str.replace(r"[\s().\-/]", "", regex=True)
            typed = "+63" + digits.str.extract(PH_MOBILE, expand=False)
        elif spec.type == "timestamp":
            typed = pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]")
            for fmt in spec.formats:
                typed = typed.fillna(pd.to_datetime(value, format=fmt, errors="coerce"))
        else:
            typed = value
        bad |= value.notna() & typed.isna()  # present but unusable: bad type, unknown value, empty name...
        out[spec.name] = typed

    columns = [c.name for c in contract.columns]
    valid = out[~bad].assign(_file=df["_file"], _line=df["_line"])
    duplicate = valid.duplicated(subset=[*columns, "_file"])  # exact duplicates within a file
    alumni = valid[~duplicate]
    # latest submission wins; rows without a date were "ingested now", later than any submission
    when = alumni["submission_date"].fillna(pd.Timestamp.now())
    current = (alumni.assign(_when=when).sort_values(["_when", "_file", "_line"])
               .drop_duplicates("employee_id", keep="last").drop(columns="_when"))

    args.out.mkdir(parents=True, exist_ok=True)
    alumni.to_parquet(args.out / "alumni.parquet", index=False)
    current.to_parquet(args.out / "alumni_current.parquet", index=False)
    print(json.dumps({
        "rows_in": records, "rows_valid": len(alumni), "rows_quarantined": records - len(valid),
        "rows_duplicate": int(duplicate.sum()), "alumni": len(current),
        "seconds": round(time.perf_counter() - started, 3),
    }))


if __name__ == "__main__":
    main()
