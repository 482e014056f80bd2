"""Read a landed CSV export as Arrow record batches: encoding, delimiter, quotes and physical lines.

Rows are split with numpy (quote parity at each newline) and Arrow string kernels, so a file of
a million rows is parsed without a Python loop over rows; only rows holding quotes or the wrong
number of fields go through Python's csv module. Each row keeps the physical line it starts on.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import itertools
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from campuslake.lake.archive import DIGEST_FRAME_SIZE, GZIP_MAGIC, is_zstd, stored_digest
from campuslake.lake.storage import LakeStorage
from campuslake.validate.reasons import FileReason

SAMPLE_BYTES = 64 << 10
CHUNK_BYTES = 16 << 20
DELIMITERS = (",", ";", "\t", "|")
LINE_COLUMN = "_source_line"
RAW_LINE_COLUMN = "_raw_line"
FIELD_COUNT_COLUMN = "_field_count"


class FileRejected(Exception):
    """The whole file cannot be read as a CSV export; `reason` is a FileReason code."""

    def __init__(self, reason: FileReason, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.line = line


@dataclass
class SourceFormat:
    """What was detected about a file, recorded in the batch ledger."""

    encoding: str
    compressed: bool
    delimiter: str = ","
    header: list[str] = field(default_factory=list)
    """column names, made unique (a repeated `Email` becomes `Email_2`); raw column `cN` is header[N]"""
    written_header: list[str] = field(default_factory=list)
    """the header as written (trimmed), repeats included: what contract matching looks at"""
    header_line: int = 1
    blank_lines: int = 0


class _ZstdStream:
    """A zstd stream; when the archive stored the content's SHA-256 ahead of it, checked at the end."""

    def __init__(self, raw: pa.NativeFile, digest: bytes | None) -> None:
        self._stream = pa.CompressedInputStream(raw, "zstd")
        self._digest = digest
        self._hash = hashlib.sha256() if digest else None

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        if self._hash is not None:
            self._hash.update(chunk)
            if not chunk and self._hash.digest() != self._digest:
                raise OSError("the content does not match the SHA-256 stored with it")
        return chunk

    def __enter__(self) -> _ZstdStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.close()


def _open_decompressed(storage: LakeStorage, relative: str) -> io.BufferedIOBase:
    # Decided by magic bytes, not by file name (landed files have no extension); one open: the
    # file is read from its start again after the head.
    raw = storage.fs.open_input_file(storage.path(relative))
    head = raw.read(DIGEST_FRAME_SIZE)
    raw.seek(0)
    if head[:2] == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw)  # type: ignore[arg-type]
    if is_zstd(head):
        return _ZstdStream(raw, stored_digest(head))  # type: ignore[return-value]
    return raw  # type: ignore[return-value]


def _read_chunks(stream: io.BufferedIOBase, size: int | None = None) -> Iterator[bytes]:
    size = size or CHUNK_BYTES  # looked up per call, so tests and callers can lower it
    try:
        while chunk := stream.read(size):
            yield chunk
    except (OSError, EOFError, zlib.error, pa.ArrowException) as exc:
        raise FileRejected(FileReason.BAD_COMPRESSION, f"the compressed stream is damaged: {exc}") from exc


def _detect_encoding(storage: LakeStorage, relative: str) -> tuple[str, bool]:
    """Pick the encoding from BOMs, NUL patterns and a full UTF-8 check (streamed)."""
    with _open_decompressed(storage, relative) as stream:
        compressed = isinstance(stream, (gzip.GzipFile, _ZstdStream))
        chunks = _read_chunks(stream)
        sample, at_end = b"", False
        while len(sample) < SAMPLE_BYTES and not at_end:
            chunk = next(chunks, None)
            at_end = chunk is None
            sample += chunk or b""
        # A blank sample that is not the whole file is decided later, by the records themselves.
        if at_end and not sample.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
            raise FileRejected(FileReason.EMPTY_FILE, "the file is empty: export it again")
        if sample.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        elif sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", compressed
        else:
            head = np.frombuffer(sample[: SAMPLE_BYTES - SAMPLE_BYTES % 2], np.uint8)
            even_nul = float(np.mean(head[0::2] == 0)) if head.size else 0.0
            odd_nul = float(np.mean(head[1::2] == 0)) if head.size > 1 else 0.0
            if odd_nul > 0.3 and even_nul < 0.05:
                return "utf-16-le", compressed
            if even_nul > 0.3 and odd_nul < 0.05:
                return "utf-16-be", compressed
            if 0 in head:
                raise FileRejected(FileReason.NOT_TEXT, "the file holds binary data, not CSV text")
            encoding = "utf-8"
        if not is_utf8(itertools.chain([sample], chunks)):
            return _single_byte_encoding(storage, relative), compressed
    return encoding, compressed


def is_utf8(chunks: Iterable[bytes]) -> bool:
    """The bytes, chunk after chunk (a character may be split between two), are valid UTF-8, as
    Python's strict decoder sees it. Arrow's check costs ~1 ms per 15 MB, decoding ~17 ms."""
    carry = b""
    for chunk in chunks:
        data = carry + chunk
        whole = _whole_characters(data)
        if not _valid_utf8(data[:whole]):
            return False
        carry = data[whole:]
    return not carry  # a character cut off by the end of the input


def _whole_characters(data: bytes) -> int:
    """Length of `data` up to a character whose last bytes are still to come (at most 3 bytes)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # the last character starts here: ASCII or a lead byte
            length = 1 if byte < 0xC0 else 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(data) - back if length > back else len(data)
    return len(data)  # no lead byte in the last 4: invalid, which the check reports


def _valid_utf8(data: bytes) -> bool:
    offsets = pa.py_buffer(np.array([0, len(data)], np.int32))
    try:
        pa.StringArray.from_buffers(1, offsets, pa.py_buffer(data)).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _single_byte_encoding(storage: LakeStorage, relative: str) -> str:
    """Not UTF-8: Windows-1252 when every byte is defined there, else Latin-1 (always decodes)."""
    decoder = codecs.getincrementaldecoder("cp1252")()
    with _open_decompressed(storage, relative) as stream:
        try:
            for chunk in _read_chunks(stream):
                decoder.decode(chunk)
        except UnicodeDecodeError:
            return "latin-1"
    return "cp1252"


def _utf8_chunks(storage: LakeStorage, relative: str, encoding: str) -> Iterator[bytes]:
    """The file's text as UTF-8 bytes, chunk by chunk (chunks may split characters)."""
    with _open_decompressed(storage, relative) as stream:
        if encoding in ("utf-8", "utf-8-sig"):
            head: bytes | None = b""  # the first bytes, held until a BOM can be told apart
            for chunk in _read_chunks(stream):
                if head is not None:
                    head += chunk
                    if len(head) < len(codecs.BOM_UTF8):
                        continue
                    chunk, head = head.removeprefix(codecs.BOM_UTF8), None
                yield chunk
            if head:
                yield head.removeprefix(codecs.BOM_UTF8)
            return
        decoder = codecs.getincrementaldecoder(encoding)()
        for chunk in _read_chunks(stream):
            yield decoder.decode(chunk).encode("utf-8")
        yield decoder.decode(b"", final=True).encode("utf-8")


@dataclass
class _Block:
    """Whole records: `data` ends with a record-ending newline; `starts` are record offsets."""

    data: bytes
    starts: np.ndarray
    lines: np.ndarray
    quoted: np.ndarray
    """per record: it holds a quote (only those may need csv to split)"""


def _blocks(chunks: Iterator[bytes], source: SourceFormat) -> Iterator[_Block]:
    """Cut the byte stream at newlines outside quotes; number each record's first physical line.

    `source.delimiter` is read once the header is known (before that it is sniffed from the
    buffer's first line); only buffers with malformed quoting need it.
    """
    pending = b""
    line_base = 1
    for chunk in _iter_with_final(chunks):
        if chunk is None:
            # End of input: what is left is one last record, whether it lacks its newline or a
            # quote was never closed (csv then reads the rest as one field; nothing is dropped).
            if pending:
                yield _Block(pending + b"\n", np.zeros(1, np.int64), np.array([line_base], np.int64),
                             np.array([b'"' in pending]))
            return
        buffer = pending + chunk
        data = np.frombuffer(buffer, np.uint8)
        newlines = np.flatnonzero(data == 10)
        quotes = np.flatnonzero(data == 34)
        if newlines.size and _has_stray_quotes(data, quotes):
            separators = _csv_separators(buffer, newlines, quotes, source)
        else:
            # A newline ends a record when an even number of quotes precedes it (RFC 4180 quoting).
            separators = newlines[(np.searchsorted(quotes, newlines) & 1) == 0]
        if separators.size == 0:
            pending = buffer
            continue
        end = int(separators[-1]) + 1
        starts = np.concatenate(([0], separators[:-1] + 1))
        lines = line_base + np.searchsorted(newlines, starts)
        # quotes from a record's start to the next one's: only a record holding one may need csv
        quoted = np.diff(np.searchsorted(quotes, np.append(starts, end))) > 0
        yield _Block(buffer[:end], starts, lines, quoted)
        line_base += int(np.searchsorted(newlines, end))
        pending = buffer[end:]


# Bytes that may precede an opening quote / follow a closing one in well-formed CSV (any
# delimiter).
_BEFORE_OPENING = np.frombuffer(b"\n\",;\t|", np.uint8)
_AFTER_CLOSING = np.frombuffer(b"\r\n\",;\t|", np.uint8)


def _has_stray_quotes(data: np.ndarray, quotes: np.ndarray) -> bool:
    """True when quote parity cannot be trusted: a quote opens mid-field or a field goes on after
    its closing quote (`5'10" tall`, `Juan "JJ" Cruz`, `a, "b"`). csv reads such quotes as text."""
    if quotes.size == 0:
        return False
    opening = (np.arange(quotes.size) & 1) == 0  # parity's view: an even number of quotes before it
    before = data[np.maximum(quotes - 1, 0)]
    after = data[np.minimum(quotes + 1, data.size - 1)]
    before_ok = (quotes == 0) | np.isin(before, _BEFORE_OPENING)
    after_ok = (quotes == data.size - 1) | np.isin(after, _AFTER_CLOSING)
    return bool(np.any(opening & ~before_ok) or np.any(~opening & ~after_ok))


def _csv_separators(buffer: bytes, newlines: np.ndarray, quotes: np.ndarray,
                    source: SourceFormat) -> np.ndarray:
    """Record-ending newlines as Python's csv module finds them, for a buffer with stray quotes.

    Only such (rare, malformed) buffers pay for this line-by-line pass; the buffer starts at a
    record boundary, so the next buffer does too and goes back to the vectorized cut.
    """
    text = buffer[: int(newlines[-1]) + 1].decode("utf-8")  # whole lines: no character is split
    physical = [line + "\n" for line in text.split("\n")[:-1]]
    delimiter = source.delimiter if source.header else _parse_header(next(
        (line for line in physical if line.strip()), physical[0]).rstrip("\r\n"))[0]
    # The sentinel line comes back as a record of its own only if the last record was closed.
    reader = csv.reader([*physical, "\ue000"], delimiter=delimiter)
    ends: list[int] = []
    fields: list[str] = []
    try:
        for fields in reader:
            if fields == ["\ue000"]:
                break
            ends.append(reader.line_num)
    except csv.Error:  # a lone carriage return outside quotes: fall back to quote parity
        return newlines[(np.searchsorted(quotes, newlines) & 1) == 0]
    closed = ends if fields == ["\ue000"] else ends[:-1]
    return newlines[np.array(closed, np.int64) - 1] if closed else newlines[:0]


def _iter_with_final(chunks: Iterator[bytes]) -> Iterator[bytes | None]:
    yield from chunks
    yield None


def _records(block: _Block) -> pa.StringArray:
    offsets = np.append(block.starts, len(block.data)).astype(np.int32)
    array = pa.StringArray.from_buffers(len(block.starts), pa.py_buffer(offsets), pa.py_buffer(block.data))
    return pc.utf8_rtrim(array, characters="\r\n")


def _parse_header(text: str) -> tuple[str, list[str]]:
    """(delimiter, header fields as written, trimmed)."""
    counts = {d: _count_outside_quotes(text, d) for d in DELIMITERS}
    delimiter = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    fields = next(csv.reader([text], delimiter=delimiter))
    return delimiter, [name.replace("\ufeff", "").strip() for name in fields]


def _count_outside_quotes(text: str, delimiter: str) -> int:
    return sum(part.count(delimiter) for part in text.split('"')[0::2])


def _unique_names(fields: list[str]) -> list[str]:
    names: list[str] = []
    for position, name in enumerate(fields):
        name = name or f"column_{position + 1}"
        candidate, n = name, 2
        while candidate in names:
            candidate, n = f"{name}_{n}", n + 1
        names.append(candidate)
    return names


def _csv_records(text: str, delimiter: str) -> list[tuple[int, list[str], str]]:
    """(line offset, fields, raw text) of each record Python's csv module reads in `text`.

    Usually one. More when a stray quote inside an unquoted field (`5'10" tall`) made the
    quote-parity cut join several lines: csv reads such a quote as a plain character.
    """
    # Split on "\n" only, as _blocks counts lines; csv would also split on a lone "\r".
    parts = text.split("\n")
    physical = [line + "\n" for line in parts[:-1]] + [parts[-1]]
    reader = csv.reader(physical, delimiter=delimiter)
    records: list[tuple[int, list[str], str]] = []
    consumed = 0
    try:
        for fields in reader:
            start, consumed = consumed, reader.line_num
            raw = "".join(physical[start:consumed]).rstrip("\r\n")
            if raw.strip():
                records.append((start, fields, raw))
    except csv.Error:  # a lone carriage return in an unquoted field: keep the line as it is
        return [(0, text.split(delimiter), text)]
    return records or [(0, [text], text)]


def _split_rows(records: pa.StringArray, lines: np.ndarray, quoted: np.ndarray, delimiter: str,
                width: int) -> pa.RecordBatch:
    """Split records into `width` string columns; odd rows (quotes, wrong width) go through csv."""
    fast_lists = pc.split_pattern(records, delimiter)
    counts = pc.list_value_length(fast_lists).to_numpy(zero_copy_only=False)
    fast = (~quoted) & (counts == width)
    fast_index = np.flatnonzero(fast)
    slow_index = np.flatnonzero(~fast)

    fast_rows = fast_lists.filter(pa.array(fast))
    columns = [pc.list_element(fast_rows, j) for j in range(width)] if fast_index.size else [
        pa.array([], pa.string()) for _ in range(width)]
    slow_owner: list[int] = []
    slow_lines: list[int] = []
    slow_fields: list[list[str]] = []
    slow_text: list[str] = []
    slow_records = records.take(pa.array(slow_index, pa.int64())).to_pylist()
    for position, text in zip(slow_index.tolist(), slow_records, strict=True):
        for offset, fields, raw in _csv_records(text, delimiter):
            slow_owner.append(position)
            slow_lines.append(int(lines[position]) + offset)
            slow_fields.append(fields)
            slow_text.append(raw)
    slow_columns = [[f[j] if j < len(f) else None for f in slow_fields] for j in range(width)]

    # Stable: the records csv found in one cut stay in file order after their owner's position.
    order = np.argsort(np.concatenate((fast_index, np.array(slow_owner, np.int64))), kind="stable")
    take = pa.array(order, pa.int64())

    def merged(fast_part: pa.Array, slow_part: list[object], kind: pa.DataType) -> pa.Array:
        return pa.concat_arrays([fast_part.cast(kind), pa.array(slow_part, kind)]).take(take)

    field_counts = np.concatenate((counts[fast_index], [len(f) for f in slow_fields])).astype(np.int32)
    source_lines = np.concatenate((lines[fast_index], np.array(slow_lines, np.int64)))
    # Only rows that needed csv keep their raw text; the others are the join of their cells.
    raw_lines = pa.concat_arrays([pa.nulls(fast_index.size, pa.string()), pa.array(slow_text, pa.string())])
    arrays = [
        pa.array(source_lines, pa.int64()).take(take),
        raw_lines.take(take),
        pa.array(field_counts, pa.int32()).take(take),
        *[merged(columns[j], slow_columns[j], pa.string()) for j in range(width)],
    ]
    return pa.RecordBatch.from_arrays(arrays, names=[LINE_COLUMN, RAW_LINE_COLUMN, FIELD_COUNT_COLUMN,
                                                     *[f"c{j}" for j in range(width)]])


def _blank(records: pa.StringArray) -> pa.BooleanArray:
    """Empty or only white space (is_space stops at the first other character; trimming copied
    every line)."""
    return pc.or_(pc.equal(pc.binary_length(records), 0), pc.utf8_is_space(records))


def read_csv_source(storage: LakeStorage, relative: str) -> tuple[SourceFormat, Iterator[pa.RecordBatch]]:
    """Detect the format of a landed file, then stream its data rows as Arrow record batches.

    Raises FileRejected for a file that is empty, binary, badly compressed or has no header.
    The batches carry `_source_line`, `_raw_line`, `_field_count` and one column `cN` per header
    field, all strings; `SourceFormat.header[N]` names column `cN`.
    """
    encoding, compressed = _detect_encoding(storage, relative)
    source = SourceFormat(encoding=encoding, compressed=compressed)
    blocks = _blocks(_utf8_chunks(storage, relative, encoding), source)

    header_records: pa.StringArray | None = None
    header_lines = header_quoted = np.zeros(0, np.int64)
    for block in blocks:
        records = _records(block)
        blank = _blank(records).to_numpy(zero_copy_only=False)
        keep = np.flatnonzero(~blank)
        source.blank_lines += int(blank.sum())
        if keep.size:
            header_records = records.take(pa.array(keep, pa.int64()))
            header_lines, header_quoted = block.lines[keep], block.quoted[keep]
            break
    if header_records is None:
        raise FileRejected(FileReason.EMPTY_FILE, "the file has no header and no rows: export it again")

    source.delimiter, source.written_header = _parse_header(header_records[0].as_py())
    source.header = _unique_names(source.written_header)
    source.header_line = int(header_lines[0])
    width = len(source.header)

    def batches() -> Iterator[pa.RecordBatch]:
        if len(header_records) > 1:
            yield _split_rows(header_records.slice(1), header_lines[1:], header_quoted[1:], source.delimiter, width)
        for block in blocks:
            records = _records(block)
            blank = _blank(records)
            source.blank_lines += pc.sum(blank).as_py() or 0
            keep = pc.invert(blank)
            rows = records.filter(keep)
            if len(rows):
                kept = keep.to_numpy(zero_copy_only=False)
                yield _split_rows(rows, block.lines[kept], block.quoted[kept], source.delimiter, width)

    return source, batches()
