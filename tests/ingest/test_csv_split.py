"""The native record splitter on its own: cells against Python's csv module, present forms
and control-character flags against a plain-Python reference of the whitespace rule, the null
tokens and what a control character is."""

from __future__ import annotations

import csv
import io
import unicodedata
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from campuslake.ingest.csv_split import (FLAG_CONTROL, FLAG_LINE_BREAK, FLAG_OPEN_QUOTE, FLAG_UNREADABLE,
                                         RecordSplitter)

# Every character str.isspace() accepts, and the BOM exports leave behind.
SPACES = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006" \
         "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
TOKENS = ["", "NA", "n/a", "null", "None", "-", "unknown"]
FOLDED_TOKENS = {t.strip().lower() for t in TOKENS} - {""}


def test_the_space_list_is_every_character_python_calls_a_space() -> None:
    assert {c for c in map(chr, range(0x110000)) if c.isspace()} | {"\ufeff"} == set(SPACES)


def reference_present(value: str) -> str | None:
    """What the reader's present form means, in plain Python: None = the cell as it is,
    '' = no value (nothing but spaces, or a null token), else the collapsed text."""
    collapsed = " ".join("".join(" " if ch.isspace() or ch == "\ufeff" else ch for ch in value).split())
    if value == "":
        return None
    if collapsed == "" or collapsed.lower() in FOLDED_TOKENS:
        return ""
    return None if collapsed == value else collapsed


def reference_control(value: str) -> int:
    """1 when the value holds a control character (Unicode's Cc: C0, DEL, C1) that is not a space."""
    return int(any(unicodedata.category(ch) == "Cc" and not ch.isspace() for ch in value))


def split_values(values: list[str], tokens: list[str] = TOKENS) -> tuple[list[object], list[object], list[int]]:
    """Write `values` as the second column of a CSV (csv.writer quotes what needs it), split it,
    and return (cells, present forms) of that column and the records' flags."""
    text, starts = "", []
    for i, value in enumerate(values):
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\r\n").writerow([i, value])  # quotes any \r or \n
        starts.append(1 + text.count("\n"))
        text += out.getvalue()
    result = RecordSplitter(",", 2, prepare=[1], null_tokens=tokens).split(text.encode(), final=True)
    assert result.lines.to_pylist() == starts
    return result.cells[1].to_pylist(), result.present[1].to_pylist(), result.flags.to_pylist()


piece = st.one_of(st.sampled_from(SPACES), st.sampled_from("aBñÑ0-.,'\"/\u212a"), st.sampled_from(TOKENS[1:]),
                  st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
messy = st.lists(piece, max_size=8).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(messy, min_size=1, max_size=40))
@example([" \u00a0 ", "", "\x0b Ana \u2003", "\u2028x\u2029", "a\u3000\u3000b\ufeff", "\ufeff", "a\x1cb",
          " N/A ", "NULL", "na\u00a0", "-", "UN\u212aNOWN", "Ana  Cruz", "a\r\nb", '"q"',
          "An\x07a", "\x1b[0m", "x\x7f", "caf\u0085e", "\u0091quoted\u0092", "\u009f", "\u00a0\u00c2",
          "Nu\ufffdez", "\ufffd", "\uffef\ufffe"])
def test_present_form_is_the_collapsed_cell_or_no_value_for_tokens(values: list[str]) -> None:
    cells, present, flags = split_values(values)
    assert cells == values  # the cell itself is untouched
    assert present == [reference_present(v) for v in values]
    assert [f & FLAG_CONTROL for f in flags] == [reference_control(v) for v in values]
    assert [f & FLAG_LINE_BREAK == FLAG_LINE_BREAK for f in flags] == ["\n" in v for v in values]
    assert [f & FLAG_UNREADABLE == FLAG_UNREADABLE for f in flags] == ["\ufffd" in v for v in values]
    for value in present:
        if value:
            assert value == value.strip() and "  " not in value
            assert split_values([value])[1] == [None]  # collapsing again changes nothing


def test_non_ascii_null_tokens_are_matched_in_lower_case() -> None:
    cells, present, _ = split_values(["NINGÚN", " ningún ", "ningun", "Ningún dato"], tokens=["ningún"])
    assert present == ["", "", None, None]


def test_a_nul_is_a_control_character_and_only_prepared_cells_are_flagged() -> None:
    result = RecordSplitter(",", 3, prepare=[0, 1]).split(b"1,A\x00na,x\n2,Ana,\x00\n3,\x01,\n", final=True)
    assert result.flags.to_pylist() == [FLAG_CONTROL, 0, FLAG_CONTROL]
    assert result.cells[1].to_pylist() == ["A\x00na", "Ana", "\x01"]


@pytest.mark.parametrize("final", [False, True])
def test_an_unfinished_record_is_left_for_the_next_buffer(final: bool) -> None:
    splitter = RecordSplitter(",", 2, line=10)
    result = splitter.split(b'1,a\n2,"b\nc', final=final)
    if final:  # the input ends inside the quote: a stray one (the next tests)
        assert result.consumed == 10 and result.cells[1].to_pylist() == ["a", "b", None]
        assert result.lines.to_pylist() == [10, 11, 12] and result.flags.to_pylist() == [0, FLAG_OPEN_QUOTE, 0]
    else:
        assert result.consumed == 4 and result.cells[1].to_pylist() == ["a"]
        assert splitter.line == 11  # the next buffer starts on the unfinished record's line


def _split_as_read(text: bytes, buffer_size: int, **options: object) -> list[tuple[object, ...]]:
    """(line, flags, field count, raw text, cells) of each record, the text given in buffers of
    `buffer_size` bytes as the reader gives them: what a split leaves goes on with the next buffer."""
    splitter = RecordSplitter(",", 2, **options)  # type: ignore[arg-type]
    records: list[tuple[object, ...]] = []
    pending = b""
    for start in [*range(0, len(text), buffer_size), None]:
        final = start is None
        buffer = pending + (b"" if final else text[start:start + buffer_size])
        result = splitter.split(buffer, final=final)
        pending = buffer[result.consumed:]
        records += zip(result.lines.to_pylist(), result.flags.to_pylist(), result.field_counts.to_pylist(),
                       result.raw_lines.to_pylist(), *(c.to_pylist() for c in result.cells), strict=True)
    return records


def test_a_quote_open_at_the_end_of_the_input_ends_with_its_line() -> None:
    """csv reads an unclosed quote as a field holding the rest of the file, so one stray quote
    would swallow every row after it: the record ends with the quote's line instead, flagged,
    and the lines after it are records of their own."""
    text = b'0,"z"\n1,a\n2,"b, c\r\n3,d\n\n4,e\n'  # no quote after the one opening "b: it never closes
    expected = [(1, 0, 2, '0,"z"', "0", "z"), (2, 0, 2, None, "1", "a"),
                (3, FLAG_OPEN_QUOTE, 2, '2,"b, c', "2", "b, c"), (4, 0, 2, None, "3", "d"),
                (6, 0, 2, None, "4", "e")]
    for size in (1, 3, 8, len(text)):
        assert _split_as_read(text, size) == expected, size


def test_a_quote_still_open_past_the_limit_is_cut_the_same_however_the_file_is_read() -> None:
    """A quote that closes further than max_quote_bytes from its record's start is a stray one
    too; the cut depends on the text alone, not on where the reader's buffers end."""
    lines = [b'1,"Ana'] + [b"%d,B%d" % (i, i) for i in range(2, 60)] + [b'60,"C" end', b"61,D"]
    text = b"\n".join(lines) + b"\n"
    records = _split_as_read(text, len(text), max_quote_bytes=64)
    assert records[0] == (1, FLAG_OPEN_QUOTE, 2, '1,"Ana', "1", "Ana")
    assert [r[0] for r in records] == list(range(1, 62))
    assert [r[4:] for r in records[1:]] == [(str(i), f"B{i}") for i in range(2, 60)] + [("60", "C end"), ("61", "D")]
    for size in (1, 5, 63, 64, 65, 200):
        assert _split_as_read(text, size, max_quote_bytes=64) == records, size
    # within the limit the quote closes, as csv reads it: one record of the lines in between
    [whole, last] = _split_as_read(text, 7)
    swallowed = "".join(f"{i},B{i}\n" for i in range(2, 60))
    assert whole[1] == FLAG_LINE_BREAK and whole[4:] == ("1", "Ana\n" + swallowed + '60,C" end')
    assert last[4:] == ("61", "D")


def _records(text: str, width: int) -> list[list[str]]:
    return [row + [""] * (width - len(row)) for row in csv.reader(io.StringIO(text))]


def _split_in_buffers(splitter: RecordSplitter, buffers: list[bytes]) -> list[pa.StringArray]:
    """Each buffer's cells, column after column, kept as the splitter returned them."""
    columns: list[pa.StringArray] = []
    for buffer in buffers:
        result = splitter.split(buffer, final=buffer is buffers[-1])
        assert result.consumed == len(buffer)
        columns += result.cells
    return columns


def _rows(columns: list[pa.StringArray], width: int) -> list[list[str]]:
    rows: list[list[str]] = []
    for start in range(0, len(columns), width):
        rows += [list(cells) for cells in zip(*(c.to_pylist() for c in columns[start:start + width]), strict=True)]
    return rows


def test_splitters_interleaved_on_one_thread_or_run_on_two_keep_their_own_cells() -> None:
    # Splitters share their thread's scratch space: each split copies its cells out before returning,
    # so cells read after later splits (here, at the end) are still their own.
    wide = ["".join(f'{i},"wide, {i}",x{i}\n' for i in range(start, start + 300)) for start in (0, 300, 600)]
    narrow = [" a \n" * 50, "bb\n" * 5000, "c\n" * 20]  # the second outgrows the scratch space
    one, other = RecordSplitter(",", 3), RecordSplitter(",", 1, prepare=[0])
    wide_columns: list[pa.StringArray] = []
    narrow_columns: list[pa.StringArray] = []
    for wide_text, narrow_text in zip(wide, narrow, strict=True):
        wide_columns += _split_in_buffers(one, [wide_text.encode()])
        narrow_columns += _split_in_buffers(other, [narrow_text.encode()])
    assert _rows(wide_columns, 3) == _records("".join(wide), 3)
    assert _rows(narrow_columns, 1) == _records("".join(narrow), 1)

    texts = ["".join(f"{t},{i},{'q' * (i % 40)}\n" for i in range(20_000)) for t in range(2)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda text: _split_in_buffers(RecordSplitter(",", 3), [text.encode()]), texts))
    assert [_rows(columns, 3) for columns in results] == [_records(text, 3) for text in texts]
