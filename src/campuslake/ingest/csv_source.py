"""Read a landed CSV export as Arrow record batches: encoding, delimiter, quotes and physical lines.

Encodings and compression are told apart here; records and cells are split natively
(campuslake.ingest.csv_split) the way Python's csv module reads them, a chunk at a time, so
memory is bounded by the chunk size and no Python loop runs per row. Each row keeps the
physical line it starts on.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import itertools
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from campuslake.ingest.csv_split import RecordSplitter, Split
from campuslake.lake.archive import DIGEST_FRAME_SIZE, GZIP_MAGIC, is_zstd, stored_digest
from campuslake.lake.storage import LakeStorage
from campuslake.validate.reasons import FileReason

SAMPLE_BYTES = 64 << 10
CHUNK_BYTES = 16 << 20
DELIMITERS = (",", ";", "\t", "|")
UTF8_WITH_FAULTS = "utf-8, faulty bytes"
"""a UTF-8 file with some bytes that are not: read as UTF-8, those bytes as REPLACEMENT"""
REPLACEMENT = "\ufffd"
_SEPARATOR_HINT = re.compile("\ufeff?sep=([,;\t|]) *", re.IGNORECASE)
"""the line Excel writes before the header to name the delimiter"""
LINE_COLUMN = "_source_line"
RAW_LINE_COLUMN = "_raw_line"
FIELD_COUNT_COLUMN = "_field_count"
FLAGS_COLUMN = "_reader_flags"


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
        raise FileRejected(FileReason.BAD_COMPRESSION,
                           f"the compressed stream is damaged ({exc}): copy or download the file again") from exc


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
                raise FileRejected(FileReason.NOT_TEXT, "the file holds binary data, not CSV text: export the sheet "
                                                       "as CSV (a workbook or a PDF is not read)")
            encoding = "utf-8"
        if not is_utf8(itertools.chain([sample], chunks)):
            if _mostly_utf8(storage, relative):
                return UTF8_WITH_FAULTS, compressed
            return _single_byte_encoding(storage, relative), compressed
    return encoding, compressed


def _mostly_utf8(storage: LakeStorage, relative: str) -> bool:
    """The file's non-ASCII text is mostly valid UTF-8: a UTF-8 export with a few bytes of another
    encoding (a line pasted from an older tool), not a single-byte file, whose accented letters are
    each a fault when read as UTF-8 (reading the whole file as Windows-1252 would garble every
    other accented letter, silently)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    extra_bytes = faults = 0
    with _open_decompressed(storage, relative) as stream:
        for chunk in _read_chunks(stream):
            text = decoder.decode(chunk)
            faults += text.count(REPLACEMENT)
            extra_bytes += len(text.encode("utf-8")) - len(text)  # 1 to 3 per non-ASCII character
    return extra_bytes - 2 * faults > 2 * faults


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
        if encoding == UTF8_WITH_FAULTS:  # the rows holding a faulty byte are quarantined (not_utf8)
            decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
            for chunk in _read_chunks(stream):
                yield decoder.decode(chunk).encode("utf-8")
            yield decoder.decode(b"", final=True).encode("utf-8")
            return
        # UTF-16 is told by its first bytes, not checked through like UTF-8: a fault further on
        # shows here, at the line it is on.
        decoder = codecs.getincrementaldecoder(encoding)()
        lines = 1
        try:
            for chunk in _read_chunks(stream):
                text = decoder.decode(chunk)
                lines += text.count("\n")
                yield text.encode("utf-8")
            yield decoder.decode(b"", final=True).encode("utf-8")
        except UnicodeDecodeError as exc:
            lines += exc.object[:exc.start].decode(exc.encoding, errors="replace").count("\n")
            raise FileRejected(FileReason.BAD_ENCODING,
                               f"bytes that are not {encoding.upper()} text ({exc.reason}): export the file "
                               f"again, as UTF-8 if the tool allows",
                               line=lines) from exc


def _mac_line_ends(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Lines ended by a lone '\r' (Excel's "CSV (Macintosh)", classic Mac OS) read as '\n'-ended.
    The file's start decides: a '\r' followed by anything but '\n', and no '\n' up to the
    sample's size (elsewhere a lone '\r' is a plain character, see csv_split.c)."""
    head = b""
    for chunk in chunks:
        head += chunk
        if b"\n" in head or len(head) >= SAMPLE_BYTES:
            break
    if b"\n" in head or b"\r" not in head[:-1]:
        if head:
            yield head
        yield from chunks
        return
    yield head.replace(b"\r", b"\n")
    for chunk in chunks:
        yield chunk.replace(b"\r", b"\n")


def _parse_header(text: str, delimiter: str | None = None) -> tuple[str, list[str]]:
    """(delimiter, header fields as written, trimmed); the delimiter the header holds most of,
    unless one is given."""
    if delimiter is None:
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


class CsvRows:
    """The data rows of a file, read as they are iterated (once): record batches of
    `_source_line`, `_raw_line`, `_field_count`, `_reader_flags` (csv_split's FLAG_ bits), one
    string column `cN` per header field and, for the columns given to `prepare`, their present
    form `pN` (see csv_split.RecordSplitter)."""

    def __init__(self, source: SourceFormat, buffer: bytes, start: int, chunks: Iterator[bytes],
                 line: int) -> None:
        self._source = source
        self._buffer, self._start = buffer, start  # what is read of the file past the header
        self._chunks = chunks
        self._line = line
        self._prepare: list[int] = []
        self._null_tokens: list[str] = []

    def prepare(self, columns: Iterable[int], null_tokens: Iterable[str]) -> CsvRows:
        """Also give these columns their present form: spaces trimmed and collapsed, `''` where
        nothing else is left or the cell is a null token."""
        self._prepare, self._null_tokens = sorted(columns), list(null_tokens)
        return self

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        source, width = self._source, len(self._source.header)
        splitter = RecordSplitter(source.delimiter, width, line=self._line, prepare=self._prepare,
                                  null_tokens=self._null_tokens)
        names = [LINE_COLUMN, RAW_LINE_COLUMN, FIELD_COUNT_COLUMN, FLAGS_COLUMN, *[f"c{j}" for j in range(width)],
                 *[f"p{j}" for j in self._prepare]]
        buffer, start = self._buffer, self._start
        for chunk in _iter_with_final(self._chunks):
            if chunk:  # what is left of the buffer is the start of a record the chunk goes on with
                buffer, start = buffer[start:] + chunk if start < len(buffer) else chunk, 0
            split = _split(splitter, buffer, chunk is None, start)
            start += split.consumed
            source.blank_lines += splitter.blank_lines
            splitter.blank_lines = 0
            if len(split.lines):
                yield pa.RecordBatch.from_arrays(
                    [split.lines, split.raw_lines, split.field_counts, split.flags, *split.cells,
                     *[split.present[j] for j in self._prepare]], names=names)


def _iter_with_final(chunks: Iterator[bytes]) -> Iterator[bytes | None]:
    yield from chunks
    yield None


def _split(splitter: RecordSplitter, buffer: bytes, final: bool, start: int = 0) -> Split:
    try:
        return splitter.split(buffer, final, start)
    except ValueError as exc:  # a buffer the splitter cannot take
        raise FileRejected(FileReason.NOT_TEXT, f"not CSV text: {exc}") from exc


def read_csv_source(storage: LakeStorage, relative: str) -> tuple[SourceFormat, CsvRows]:
    """Detect the format of a landed file, then stream its data rows as Arrow record batches.

    Raises FileRejected for a file that is empty, binary, badly compressed or has no header.
    `SourceFormat.header[N]` names column `cN` of the rows.
    """
    encoding, compressed = _detect_encoding(storage, relative)
    source = SourceFormat(encoding=encoding, compressed=compressed)
    chunks = _mac_line_ends(_utf8_chunks(storage, relative, encoding))
    # The header is the first record that is not a blank line (its delimiter is not known yet:
    # a header splits the same way at any delimiter unless a quote in it holds a line end).
    finder = RecordSplitter(",", 0, max_records=1)
    buffer, start, final = b"", 0, False

    def next_record() -> Split | None:
        nonlocal buffer, start, final
        while True:  # next() by hand: breaking out of a for loop would close the generator
            found = _split(finder, buffer, final, start)
            start += found.consumed
            if len(found.lines) or final:
                return found if len(found.lines) else None
            chunk = next(chunks, None)
            final = chunk is None
            if chunk:
                buffer, start = buffer[start:] + chunk, 0

    header = next_record()
    hint = _SEPARATOR_HINT.fullmatch(header.raw_lines[0].as_py()) if header else None
    if hint:  # Excel's first line naming the delimiter ("sep=;"): the header comes after it
        header = next_record()
    if header is None:
        raise FileRejected(FileReason.EMPTY_FILE, "the file has no header and no rows: export it again")
    source.blank_lines = finder.blank_lines
    source.delimiter, source.written_header = _parse_header(header.raw_lines[0].as_py(),
                                                            hint.group(1) if hint else None)
    source.header = _unique_names(source.written_header)
    source.header_line = header.lines[0].as_py()
    return source, CsvRows(source, buffer, start, chunks, finder.line)
