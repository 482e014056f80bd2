"""Binding to csv_split.c, the native record splitter: CSV text in, Arrow columns out.

The library is built when campuslake is installed (`make setup`, `pip install`; see
hatch_build.py) and loaded with ctypes, so it needs no Python headers.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from campuslake.errors import CampuslakeError

LIBRARY = Path(__file__).with_name("_csv_split.dll" if sys.platform == "win32" else "_csv_split.so")
MAX_TOKENS = 64
"""null tokens the library's table holds (the contract allows as many)"""
MAX_BUFFER = (1 << 31) - 1
"""Arrow string offsets are 32-bit: a column of one buffer holds less than 2 GiB"""
MAX_QUOTE_BYTES = 1 << 20
"""how far past its record's start a quoted field may reach before its quote counts as a stray
one: csv would read the rest of the file into that field (Python's csv refuses fields past
128 KiB); the reader cuts the record at the end of the quote's line instead (docs/decisions.md)"""
FLAG_CONTROL = 1
"""Split.flags: a prepared cell holds a control character (C0, DEL or C1, spaces aside)"""
FLAG_OPEN_QUOTE = 2
"""Split.flags: a quoted field did not close (see MAX_QUOTE_BYTES): the record ends with the
quote's line, and the lines after it were read on their own"""
FLAG_LINE_BREAK = 4
"""Split.flags: a quoted field holds a line break, so the record runs over several lines"""
FLAG_UNREADABLE = 8
"""Split.flags: a prepared cell holds U+FFFD, where the decoder met bytes that were not text"""
_SCRATCH = threading.local()
"""each thread's scratch buffers, kept from splitter to splitter until the thread ends: what a
split writes there is copied out before it returns, and fresh buffers as large as the input cost
a 100,000-row file's parse 0.06-0.13 s of page faults"""


class _Strings(ctypes.Structure):
    _fields_ = [("offsets", ctypes.c_void_p), ("data", ctypes.c_void_p), ("valid", ctypes.c_void_p),
                ("used", ctypes.c_int64), ("nulls", ctypes.c_int64)]


class _Split(ctypes.Structure):
    _fields_ = [("delimiter", ctypes.c_uint8), ("width", ctypes.c_int32), ("prepare", ctypes.c_char_p),
                ("tokens", ctypes.c_char_p), ("token_count", ctypes.c_int32), ("token_max", ctypes.c_int32),
                ("line", ctypes.c_int64), ("max_records", ctypes.c_int64), ("max_quote_bytes", ctypes.c_int64),
                ("records", ctypes.c_int64), ("blank_lines", ctypes.c_int64),
                ("lines", ctypes.c_void_p), ("field_counts", ctypes.c_void_p),
                ("raw_line", _Strings), ("cells", ctypes.POINTER(_Strings)), ("present", ctypes.POINTER(_Strings)),
                ("flags", ctypes.c_void_p)]


def _load() -> ctypes.CDLL:
    try:
        library = ctypes.CDLL(str(LIBRARY))
    except OSError as exc:
        raise CampuslakeError(f"campuslake's CSV splitter is not built ({LIBRARY.name}: {exc}): install "
                              "campuslake again (`make setup` in a checkout, or pip install)") from exc
    library.cl_split_records.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int, ctypes.POINTER(_Split)]
    library.cl_split_records.restype = ctypes.c_int64
    return library


_LIBRARY: ctypes.CDLL | None = None


class _StringsOut:
    """Buffers for one Arrow string array of up to `rows` values; `data` is scratch space, as
    large as the input, that the thread keeps from buffer to buffer (_SCRATCH)."""

    def __init__(self, rows: int, data: pa.Buffer) -> None:
        self.offsets = pa.allocate_buffer(4 * (rows + 1))
        self.valid = pa.allocate_buffer((rows + 7) // 8 + 1)
        self.data = data
        self.struct = _Strings(self.offsets.address, data.address, self.valid.address, 0, 0)

    def array(self, rows: int) -> pa.StringArray:
        # What was written is copied out of the scratch space (a few ms per 100,000 rows); reusing
        # that space spares the page faults of fresh buffers as large as the input per column.
        data = pa.py_buffer(self.data.slice(0, self.struct.used).to_pybytes())
        return pa.StringArray.from_buffers(rows, self.offsets, data, self.valid, self.struct.nulls)


@dataclass(frozen=True)
class Split:
    """Records split from one buffer: `consumed` bytes of it, the rest is an unfinished record."""

    consumed: int
    lines: pa.Array
    """int64: the physical line each record starts on"""
    field_counts: pa.Array
    """int32: fields in the record (cells past the width are not kept)"""
    raw_lines: pa.StringArray
    """the record's text where it needed quoting rules or has the wrong width, else NULL"""
    cells: list[pa.StringArray]
    present: dict[int, pa.StringArray]
    """prepared column -> its present form: NULL = the cell as it is, '' = no value, else the text"""
    flags: pa.Array
    """int8: the FLAG_ bits of each record"""


class RecordSplitter:
    """Splits a stream of UTF-8 CSV text, buffer after buffer, into records and cells.

    `line` is the physical line of the first byte given; it moves on with what is consumed.
    Columns in `prepare` also get their present form: spaces trimmed and runs collapsed, `''`
    for a cell that holds nothing else or is one of `null_tokens` (compared in lower case).
    A quote still open `max_quote_bytes` past its record's start, or at the end of the input, is
    a stray one (FLAG_OPEN_QUOTE).
    """

    def __init__(self, delimiter: str, width: int, *, line: int = 1, prepare: Iterable[int] = (),
                 null_tokens: Iterable[str] = (), max_records: int = 0,
                 max_quote_bytes: int = MAX_QUOTE_BYTES) -> None:
        global _LIBRARY
        if _LIBRARY is None:
            _LIBRARY = _load()
        self._library = _LIBRARY
        self.width = width
        self.prepared = sorted(set(prepare))
        tokens = sorted({t.strip().lower() for t in null_tokens} - {""})
        # The library compares ASCII tokens; others are compared here, on the few cells they fit.
        if len(tokens) > MAX_TOKENS:
            raise ValueError(f"at most {MAX_TOKENS} null tokens, not {len(tokens)}")
        self._ascii_tokens = [t for t in tokens if t.isascii()]
        self._other_tokens = frozenset(t for t in tokens if not t.isascii())
        self._flags = bytes(1 if j in self.prepared else 0 for j in range(width)) or b"\0"
        self._token_text = b"".join(t.encode() + b"\0" for t in self._ascii_tokens) or b"\0"
        self._state = _Split(delimiter=ord(delimiter), width=width, prepare=self._flags,
                             tokens=self._token_text, token_count=len(self._ascii_tokens),
                             token_max=max((len(t) for t in self._ascii_tokens), default=0),
                             line=line, max_records=max_records, max_quote_bytes=max_quote_bytes)
        self.blank_lines = 0

    def _scratch(self, size: int) -> list[pa.Buffer]:
        """A data buffer of at least `size` bytes for the raw text, each cell and each present form."""
        count = 1 + self.width + len(self.prepared)
        kept: list[pa.Buffer] = getattr(_SCRATCH, "buffers", [])
        if len(kept) < count or kept[0].size < size:
            size = max(size, kept[0].size if kept else 1)
            kept = _SCRATCH.buffers = [pa.allocate_buffer(size, memory_pool=pa.system_memory_pool())
                                       for _ in range(max(count, len(kept)))]
        return kept[:count]

    @property
    def line(self) -> int:
        return int(self._state.line)

    def split(self, buffer: bytes, final: bool, start: int = 0) -> Split:
        """Split the whole records of `buffer[start:]` (all of it when `final`: the input ends
        there); `consumed` counts from `start`."""
        size = len(buffer) - start
        if size > MAX_BUFFER:
            raise ValueError("a record or a buffer of records larger than 2 GiB")
        # at most a record per line (and no more than asked for)
        rows = self._state.max_records or buffer.count(b"\n", start) + 1
        lines, counts, flags = pa.allocate_buffer(8 * rows), pa.allocate_buffer(4 * rows), pa.allocate_buffer(rows)
        scratch = iter(self._scratch(size))
        raw = _StringsOut(rows, next(scratch))
        cells = [_StringsOut(rows, next(scratch)) for _ in range(self.width)]
        present = {j: _StringsOut(rows, next(scratch)) for j in self.prepared}
        cell_structs = (_Strings * max(self.width, 1))(*[c.struct for c in cells])
        present_structs = (_Strings * max(self.width, 1))(
            *[present[j].struct if j in present else _Strings() for j in range(self.width)])
        state = self._state
        state.records, state.blank_lines = 0, 0
        state.lines, state.field_counts, state.flags = lines.address, counts.address, flags.address
        state.raw_line = raw.struct
        state.cells, state.present = cell_structs, present_structs
        address = ctypes.cast(ctypes.c_char_p(buffer), ctypes.c_void_p).value or 0  # no copy
        consumed = self._library.cl_split_records(address + start, size, int(final), ctypes.byref(state))
        self.blank_lines += state.blank_lines
        n = int(state.records)
        raw.struct = state.raw_line
        for j, out in enumerate(cells):
            out.struct = cell_structs[j]
        for j, out in present.items():
            out.struct = present_structs[j]
        split_cells = [out.array(n) for out in cells]
        split_present = {j: out.array(n) for j, out in present.items()}
        if self._other_tokens:
            split_present = {j: self._other_token_cells(split_cells[j], p) for j, p in split_present.items()}
        return Split(consumed, pa.Array.from_buffers(pa.int64(), n, [None, lines]),
                     pa.Array.from_buffers(pa.int32(), n, [None, counts]), raw.array(n),
                     split_cells, split_present, pa.Array.from_buffers(pa.int8(), n, [None, flags]))

    def _other_token_cells(self, cells: pa.StringArray, present: pa.StringArray) -> pa.StringArray:
        """Mark as no value ('') the cells equal to a non-ASCII null token in lower case."""
        value = pc.coalesce(present, cells)
        longest = max(len(t) for t in self._other_tokens)
        fits = pc.and_(pc.invert(pc.string_is_ascii(value)), pc.less_equal(pc.utf8_length(value), longest))
        rows = pc.indices_nonzero(pc.fill_null(fits, False)).to_pylist()
        hits = [r for r, v in zip(rows, value.take(rows).to_pylist(), strict=True) if v.lower() in self._other_tokens]
        if not hits:
            return present
        mask = np.zeros(len(present), bool)
        mask[hits] = True
        return pc.replace_with_mask(present, pa.array(mask), pa.array([""] * len(hits), pa.string()))
