"""read_csv_source on small files written here: encodings, quoting, physical lines, damage.

Python's csv module is the independent oracle for rows and for the physical line each record
starts on; the chunked reader must agree with it whatever the chunk size.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import tempfile
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from campuslake.ingest import csv_source
from campuslake.ingest.csv_source import UTF8_WITH_FAULTS, FileRejected, SourceFormat, read_csv_source
from campuslake.ingest.csv_split import FLAG_OPEN_QUOTE
from campuslake.lake.storage import LakeStorage
from campuslake.validate.reasons import FileReason

Row = dict[str, object]


def read(folder: Path, data: bytes, name: str = "export") -> tuple[SourceFormat, list[Row]]:
    """Land `data` in a lake under `folder` and read it back; rows as dicts."""
    storage = LakeStorage(str(folder / "lake"))
    storage.write_bytes(f"landing/{name}", data)
    source, batches = read_csv_source(storage, f"landing/{name}")
    rows = [row for batch in batches for row in batch.to_pylist()]
    return source, rows


def cells(rows: list[Row], width: int) -> list[list[object]]:
    return [[row[f"c{j}"] for j in range(width)] for row in rows]


def lines(rows: list[Row]) -> list[int]:
    return [row["_source_line"] for row in rows]  # type: ignore[misc]


def oracle(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(physical start line, fields) of every non-blank record, by Python's csv module."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = []
    previous = 0
    for fields in reader:
        start, previous = previous + 1, reader.line_num
        if any(f.strip() for f in fields):  # whitespace-only lines are blank lines by design
            records.append((start, fields))
    return records


def rejected(folder: Path, data: bytes) -> FileReason:
    with pytest.raises(FileRejected) as info:
        source, batches = read(folder, data)
    return info.value.reason


# --- encodings ------------------------------------------------------------------------------

NAMES_CSV = "id,name,city\n1,José Peña,Cebú\n2,Zoë Ærø,Dávao\n"
NAMES = [["1", "José Peña", "Cebú"], ["2", "Zoë Ærø", "Dávao"]]


@pytest.mark.parametrize("encoded, encoding", [
    (NAMES_CSV.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + NAMES_CSV.encode("utf-8"), "utf-8-sig"),
    (codecs.BOM_UTF16_LE + NAMES_CSV.encode("utf-16-le"), "utf-16"),
    (codecs.BOM_UTF16_BE + NAMES_CSV.encode("utf-16-be"), "utf-16"),
    (NAMES_CSV.encode("utf-16-le"), "utf-16-le"),
    (NAMES_CSV.encode("utf-16-be"), "utf-16-be"),
    (NAMES_CSV.encode("cp1252"), "cp1252"),
], ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le-nobom", "utf16be-nobom", "cp1252"])
def test_encoding_is_detected_and_non_ascii_names_survive(tmp_path: Path, encoded: bytes, encoding: str) -> None:
    source, rows = read(tmp_path, encoded)
    assert source.encoding == encoding
    assert source.header == ["id", "name", "city"]
    assert cells(rows, 3) == NAMES
    assert lines(rows) == [2, 3]


def test_cp1252_only_characters_are_read_as_windows_1252(tmp_path: Path) -> None:
    text = "id,name\n1,“Ana” – Œuvre €\n"
    source, rows = read(tmp_path, text.encode("cp1252"))
    assert source.encoding == "cp1252"
    assert cells(rows, 2) == [["1", "“Ana” – Œuvre €"]]


def test_bytes_undefined_in_cp1252_fall_back_to_latin1(tmp_path: Path) -> None:
    data = "id,name\n1,Peña\n".encode("latin-1") + b"2,x\x81y\n"
    source, rows = read(tmp_path, data)
    assert source.encoding == "latin-1"
    assert cells(rows, 2) == [["1", "Peña"], ["2", "x\x81y"]]


def test_bom_is_not_part_of_the_first_header_name(tmp_path: Path) -> None:
    source, _ = read(tmp_path, codecs.BOM_UTF8 + b"Employee ID,Name\n1,a\n")
    assert source.header == ["Employee ID", "Name"]


# --- line endings, quoting, physical lines --------------------------------------------------

def test_crlf_line_endings_leave_no_carriage_return_in_cells(tmp_path: Path) -> None:
    _, rows = read(tmp_path, b"id,name\r\n1,Ana\r\n2,Ben\r\n")
    assert cells(rows, 2) == [["1", "Ana"], ["2", "Ben"]]
    assert lines(rows) == [2, 3]


def test_quoted_commas_doubled_quotes_and_embedded_newlines_keep_physical_lines(tmp_path: Path) -> None:
    text = ('id,name,note\n'
            '1,"Cruz, Juan","said ""hi"""\n'         # line 2
            '2,Ana,"two\nlines"\n'                   # line 3-4
            '3,"Ben\r\nBenitez","a\n\nb\nc"\n'       # line 5-9
            '4,Eve,plain\n')                         # line 10
    source, rows = read(tmp_path, text.encode())
    assert cells(rows, 3) == [["1", "Cruz, Juan", 'said "hi"'], ["2", "Ana", "two\nlines"],
                              ["3", "Ben\r\nBenitez", "a\n\nb\nc"], ["4", "Eve", "plain"]]
    assert lines(rows) == [2, 3, 5, 10]
    assert [(line, fields) for line, fields in oracle(text, ",")[1:]] == list(zip(lines(rows), cells(rows, 3)))
    assert source.blank_lines == 0  # the empty line inside a quoted field is data, not a blank line


def test_blank_lines_are_skipped_counted_and_shift_later_lines(tmp_path: Path) -> None:
    text = "\n  \nid,name\n1,Ana\n\n \t \r\n2,Ben\n\n"
    source, rows = read(tmp_path, text.encode())
    assert source.header_line == 3
    assert cells(rows, 2) == [["1", "Ana"], ["2", "Ben"]]
    assert lines(rows) == [4, 7]
    assert source.blank_lines == 5


def test_last_record_without_trailing_newline_is_read(tmp_path: Path) -> None:
    _, rows = read(tmp_path, b"id,name\n1,Ana\n2,\"Ben\nB\"")
    assert cells(rows, 2) == [["1", "Ana"], ["2", "Ben\nB"]]
    assert lines(rows) == [2, 3]


@pytest.mark.parametrize("hint", ["sep=;", "\ufeffsep=;", "SEP=;", "sep=\t", "sep=|"])
def test_excels_separator_line_names_the_delimiter_and_the_header_follows(tmp_path: Path, hint: str) -> None:
    d = hint[-1]  # the header holds as many commas: counting alone would pick the comma
    text = f"{hint}\r\nid{d}name, first, last{d}note\r\n1{d}Ana, Cruz, B{d}x\r\n"
    source, rows = read(tmp_path, text.encode("utf-8"))
    assert (source.delimiter, source.header, source.header_line) == (d, ["id", "name, first, last", "note"], 2)
    assert lines(rows) == [3] and cells(rows, 3) == [["1", "Ana, Cruz, B", "x"]]


def test_a_file_of_a_separator_line_only_is_empty(tmp_path: Path) -> None:
    with pytest.raises(FileRejected) as rejected:
        read(tmp_path, b"sep=,\n")
    assert rejected.value.reason is FileReason.EMPTY_FILE


def test_a_utf8_file_with_a_few_bytes_of_another_encoding_stays_utf8(tmp_path: Path) -> None:
    """One line pasted from a Latin-1 tool must not turn every other accented name into mojibake
    (the whole file read as Windows-1252): the file is read as UTF-8, the faulty bytes as U+FFFD
    (the splitter flags such cells). A file whose every accented letter is one byte stays cp1252."""
    utf8 = "".join(f"{i},José Peña\n" for i in range(1, 40)).encode("utf-8")
    source, rows = read(tmp_path, b"id,name\n" + utf8 + "40,Nuñez\n".encode("latin-1"))
    assert source.encoding == UTF8_WITH_FAULTS
    assert {r["c1"] for r in rows[:-1]} == {"José Peña"} and rows[-1]["c1"] == "Nu\ufffdez"
    source, rows = read(tmp_path / "single", "id,name\n1,José Peña\n2,Nuñez\n".encode("cp1252"))
    assert source.encoding == "cp1252" and [r["c1"] for r in rows] == ["José Peña", "Nuñez"]


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    source, rows = read(tmp_path, b"id,name\n")
    assert source.header == ["id", "name"] and rows == []


def test_unterminated_quote_ends_with_its_line_and_the_rows_after_it_are_read(tmp_path: Path) -> None:
    # A stray quote must not swallow the rest of the export into one field (csv would).
    text = 'id,name\n1,Ana\n2,"Ben\n3,Cy\n'
    _, rows = read(tmp_path, text.encode())
    assert lines(rows) == [2, 3, 4]
    assert cells(rows, 2) == [["1", "Ana"], ["2", "Ben"], ["3", "Cy"]]
    assert [(r["_raw_line"], r["_reader_flags"]) for r in rows] == [(None, 0), ('2,"Ben', FLAG_OPEN_QUOTE), (None, 0)]


@pytest.mark.parametrize("text", [
    'id,name,height\n1,Ana,5\'10" tall\n2,Ben,6\'\n3,"Cy",5\'2"\n4,Di,x\n',
    'id,name\n1,Juan "JJ" Cruz\n2,Ana\n3,Ben\n',
    'id,name\n1,Ana "A\n2,Ben\n',
], ids=["inches", "nickname", "stray-at-end"])
def test_stray_quote_inside_an_unquoted_field_is_a_plain_character(tmp_path: Path, text: str) -> None:
    _, rows = read(tmp_path, text.encode())
    width = len(text.split("\n")[0].split(","))
    want = oracle(text, ",")[1:]
    assert list(zip(lines(rows), cells(rows, width), strict=True)) == [(line, f) for line, f in want]
    assert [r["_field_count"] for r in rows] == [len(f) for _, f in want]


def test_lone_carriage_return_in_a_quoted_row_does_not_stop_the_file(tmp_path: Path) -> None:
    _, rows = read(tmp_path, b'id,name\n1,a\rb "x"\n2,Ben\n')
    assert lines(rows) == [2, 3]
    assert rows[0]["_raw_line"] == '1,a\rb "x"' and cells(rows, 2)[1] == ["2", "Ben"]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_other_delimiters_are_detected_from_the_header(tmp_path: Path, delimiter: str) -> None:
    text = delimiter.join(["id", "name", "note"]) + "\n" + delimiter.join(["1", '"a,b"', "x, y"]) + "\n"
    source, rows = read(tmp_path, text.encode())
    assert source.delimiter == delimiter
    assert cells(rows, 3) == [["1", "a,b", "x, y"]]


def test_delimiter_inside_a_quoted_header_name_does_not_count(tmp_path: Path) -> None:
    source, rows = read(tmp_path, b'"a;b";c;d\n1;2;3\n')
    assert source.delimiter == ";" and source.header == ["a;b", "c", "d"]


def test_duplicate_and_empty_header_names_are_made_unique(tmp_path: Path) -> None:
    source, _ = read(tmp_path, b"name,,name, \n1,2,3,4\n")
    assert source.header == ["name", "column_2", "name_2", "column_4"]


def test_too_many_and_too_few_fields_record_the_count_and_keep_the_raw_line(tmp_path: Path) -> None:
    text = "id,name,dept\n1,Ana,HR\n2,Ben,IT,extra\n3,Cy\n4,\"D, E\",QA,x\n"
    _, rows = read(tmp_path, text.encode())
    assert [r["_field_count"] for r in rows] == [3, 4, 2, 4]
    assert cells(rows, 3) == [["1", "Ana", "HR"], ["2", "Ben", "IT"], ["3", "Cy", None], ["4", "D, E", "QA"]]
    assert [r["_raw_line"] for r in rows] == [None, "2,Ben,IT,extra", "3,Cy", '4,"D, E",QA,x']
    assert lines(rows) == [2, 3, 4, 5]


# --- compression and rejected files ---------------------------------------------------------

def test_gzip_is_read_by_its_magic_bytes(tmp_path: Path) -> None:
    source, rows = read(tmp_path, gzip.compress(NAMES_CSV.encode("utf-16")))
    assert source.compressed and source.encoding == "utf-16"
    assert cells(rows, 3) == NAMES


@pytest.mark.parametrize("damage", ["truncated", "corrupted"])
def test_damaged_gzip_is_rejected_as_bad_compression(tmp_path: Path, damage: str) -> None:
    packed = bytearray(gzip.compress(("id,name\n" + "1,Ana\n" * 2000).encode()))
    if damage == "truncated":
        packed = packed[: len(packed) // 2]
    else:
        packed[len(packed) // 2] ^= 0xFF
        packed[len(packed) // 2 + 1] ^= 0xFF
    assert rejected(tmp_path, bytes(packed)) == FileReason.BAD_COMPRESSION


def test_damage_late_in_a_utf16_gzip_is_rejected_while_reading(tmp_path: Path) -> None:
    packed = gzip.compress(("id,name\n" + "1,Ana\n" * 20000).encode("utf-16"))
    assert rejected(tmp_path, packed[:-20]) == FileReason.BAD_COMPRESSION


def zstd_compress(data: bytes) -> bytes:
    out = pa.BufferOutputStream()
    with pa.CompressedOutputStream(out, "zstd") as packed:
        packed.write(data)
    return out.getvalue().to_pybytes()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "cp1252"])
def test_zstd_is_read_by_its_magic_bytes_like_the_plain_file(tmp_path: Path, encoding: str) -> None:
    packed = zstd_compress(NAMES_CSV.encode(encoding))
    assert packed[:4] == b"\x28\xb5\x2f\xfd"
    source, rows = read(tmp_path / "zstd", packed)
    plain_source, plain_rows = read(tmp_path / "plain", NAMES_CSV.encode(encoding))
    assert source.compressed and not plain_source.compressed
    assert source.encoding == plain_source.encoding
    assert rows == plain_rows and cells(rows, 3) == NAMES


@pytest.mark.parametrize("chunk", [64, 5])
def test_zstd_read_in_small_chunks_gives_the_same_rows(tmp_path: Path, chunk: int) -> None:
    text = "id,note\n" + "".join(f'{i},"line {i}\nnext, ""{i}"""\n' for i in range(200))
    _, plain = read(tmp_path / "plain", text.encode())
    _, packed = _read_with_chunk(tmp_path / "zstd", zstd_compress(text.encode()), chunk)
    assert packed == plain and len(packed) == 200


@pytest.mark.parametrize("cut", ["header", "half", "last-bytes"])
def test_truncated_zstd_is_rejected_as_bad_compression(tmp_path: Path, cut: str) -> None:
    packed = zstd_compress(("id,name\n" + "".join(f"{i},Ana {i * 7919 % 10007}\n" for i in range(20000))).encode("utf-16"))
    keep = {"header": 5, "half": len(packed) // 2, "last-bytes": len(packed) - 3}[cut]
    assert rejected(tmp_path, packed[:keep]) == FileReason.BAD_COMPRESSION


def test_empty_zstd_is_rejected_as_empty(tmp_path: Path) -> None:
    assert rejected(tmp_path, zstd_compress(b"")) == FileReason.EMPTY_FILE


@pytest.mark.parametrize("data", [b"", b"   \n\r\n\t\n", codecs.BOM_UTF8, codecs.BOM_UTF8 + b"\n\n",
                                  codecs.BOM_UTF16_LE + " \n".encode("utf-16-le"), gzip.compress(b"")],
                         ids=["empty", "whitespace", "bom-only", "bom-newlines", "utf16-whitespace", "empty-gzip"])
def test_empty_or_whitespace_only_file_is_rejected_as_empty(tmp_path: Path, data: bytes) -> None:
    assert rejected(tmp_path, data) == FileReason.EMPTY_FILE


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" + bytes(range(256)) * 4,
                                  b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(200),
                                  b"id,name\n1,A\x00na\n"],
                         ids=["png", "zip", "nul-in-text"])
def test_binary_file_is_rejected_as_not_text(tmp_path: Path, data: bytes) -> None:
    assert rejected(tmp_path, data) == FileReason.NOT_TEXT


@pytest.mark.parametrize("chunk_bytes", [5, 1 << 20], ids=["chunks-of-5-bytes", "one-chunk"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_lines_ended_by_a_lone_cr_read_like_lf_ones(tmp_path: Path, monkeypatch, encoding: str,
                                                      chunk_bytes: int) -> None:
    """Excel's "CSV (Macintosh)" ends lines with '\r' alone: the same rows and lines as with '\n'
    (a quoted line end included), where a '\r' in a '\n'-ended file stays a character."""
    monkeypatch.setattr(csv_source, "CHUNK_BYTES", chunk_bytes)
    lf = 'id,name,city\n1,José Peña,Cebú\n2,"Zoë\nÆrø",Dávao\n\n3,Ana,Iloilo\n'
    _, want = read(tmp_path / "lf", lf.encode(encoding))
    source, got = read(tmp_path / "cr", lf.replace("\n", "\r").encode(encoding))
    assert source.header == ["id", "name", "city"]
    assert cells(got, 3) == cells(want, 3) == [["1", "José Peña", "Cebú"], ["2", "Zoë\nÆrø", "Dávao"],
                                              ["3", "Ana", "Iloilo"]]
    assert lines(got) == lines(want) == [2, 3, 6]
    _, kept = read(tmp_path / "plain", "id,name\n1,a\rb\n".encode(encoding))
    assert cells(kept, 2) == [["1", "a\rb"]]


@pytest.mark.parametrize("chunk_bytes", [7, 1 << 20], ids=["chunks-of-7-bytes", "one-chunk"])
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_that_turns_bad_further_on_is_rejected_at_its_line(tmp_path: Path, monkeypatch, encoding: str,
                                                                  chunk_bytes: int) -> None:
    """UTF-16 is recognized by its first bytes; a lone surrogate on line 42 is found as the rows
    are read, and rejects the file with the line, not a crash."""
    monkeypatch.setattr(csv_source, "CHUNK_BYTES", chunk_bytes)
    good = "id,name\n" + "".join(f"{i},Zoë Peña\n" for i in range(40))
    surrogate = {"utf-16": b"\x00\xd8", "utf-16-le": b"\x00\xd8", "utf-16-be": b"\xd8\x00"}[encoding]
    data = good.encode(encoding) + surrogate + "x,y\n".encode("utf-16-le" if encoding != "utf-16-be" else encoding)
    with pytest.raises(FileRejected) as info:
        source, batches = read(tmp_path, data)
    assert info.value.reason == FileReason.BAD_ENCODING
    assert info.value.line == 42
    assert "UTF-16" in info.value.message and "export the file again" in info.value.message


# --- chunked reading against the csv module -------------------------------------------------

PIECES = ["a", "B", "é", "Ñ", "z", " ", ",", ";", "|", "\t", '"', "\n", "\r\n", "1"]
field = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"]


@st.composite
def csv_file(draw: st.DrawFn) -> tuple[str, str, int]:
    """(text, delimiter, width): quoted by csv.writer, with blank lines and ragged rows mixed in."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    width = draw(st.integers(2, 4))
    terminator = draw(st.sampled_from(["\n", "\r\n"]))
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator=terminator)
    writer.writerow([f"h{j}" for j in range(width)])
    for _ in range(draw(st.integers(0, 12))):
        for _ in range(draw(st.integers(0, 2)) if draw(st.integers(0, 4)) == 0 else 0):
            out.write(draw(st.sampled_from(["", "  ", " \t"])) + terminator)
        if draw(st.integers(0, 9)) == 0:  # a quote inside an unquoted field, as hand-made exports have
            stray = draw(st.sampled_from(['5\'10"', 'Juan "JJ" Cruz', ' "q', 'x"', ' "a' + delimiter + 'b"']))
            out.write(delimiter.join([draw(st.sampled_from("abXY")) + stray, *["x"] * (width - 1)]) + terminator)
        count = width + draw(st.sampled_from([0, 0, 0, 0, -1, 1]))
        # A leading letter keeps a record from being blank (blank records are skipped by design).
        writer.writerow([draw(st.sampled_from("abXY")) + draw(field), *draw(st.lists(field, min_size=count - 1,
                                                                                     max_size=count - 1))])
    text = out.getvalue()
    if draw(st.booleans()):
        text = text[: -len(terminator)]
    return text, delimiter, width


def _read_with_chunk(folder: Path, data: bytes, chunk: int) -> tuple[SourceFormat, list[Row]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csv_source, "CHUNK_BYTES", chunk)
        return read(folder, data)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_file(), st.sampled_from(ENCODINGS), st.booleans())
@example(('h0,h1\n"a\nb",c\n"x,""y""",z\n', ",", 2), "utf-8", False)
def test_small_chunks_give_the_same_rows_and_lines_as_the_csv_module(
        generated: tuple[str, str, int], encoding: str, compress: bool) -> None:
    text, delimiter, width = generated
    data = text.encode(encoding)
    if encoding == "utf-16":
        assert data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if compress:
        data = gzip.compress(data)
    expected = oracle(text, delimiter)
    with tempfile.TemporaryDirectory() as folder:
        results = [_read_with_chunk(Path(folder) / str(chunk), data, chunk) for chunk in (1 << 20, 64, 5)]
    for source, rows in results:
        assert source.delimiter == delimiter
        assert source.header == [f"h{j}" for j in range(width)]
        got = [(row["_source_line"], row["_field_count"], [row[f"c{j}"] for j in range(width)]) for row in rows]
        want = [(line, len(fields), [*fields[:width], *[None] * (width - len(fields))])
                for line, fields in expected[1:]]
        assert got == want
        assert source.blank_lines == results[0][0].blank_lines


def test_records_straddling_64_byte_chunks_inside_quotes_keep_their_lines(tmp_path: Path) -> None:
    note = '"' + "x" * 50 + "\n" + "y, " * 20 + '""q""\n"'
    text = "id,note\n" + "".join(f"{i},{note}\n" for i in range(1, 6))
    single = read(tmp_path / "one", text.encode())
    chunked = _read_with_chunk(tmp_path / "many", text.encode(), 64)
    assert lines(chunked[1]) == lines(single[1]) == [2, 5, 8, 11, 14]
    assert cells(chunked[1], 2) == cells(single[1], 2) == [[str(i), note[1:-1].replace('""', '"')] for i in range(1, 6)]


def test_chunk_size_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Guards the property above: the patched CHUNK_BYTES must really change how the file is read.
    sizes: list[int] = []
    original = csv_source._read_chunks

    def spy(stream, size=None):  # type: ignore[no-untyped-def]
        for chunk in original(stream, size):
            sizes.append(len(chunk))
            yield chunk

    monkeypatch.setattr(csv_source, "CHUNK_BYTES", 64)
    monkeypatch.setattr(csv_source, "_read_chunks", spy)
    _, rows = read(tmp_path, ("id,name\n" + "1,Ana\n" * 100).encode())
    assert len(rows) == 100 and max(sizes) == 64


def test_leading_blank_lines_longer_than_a_chunk_are_not_an_empty_file(tmp_path: Path) -> None:
    source, rows = _read_with_chunk(tmp_path, b"\n" * 200 + b"id,name\n1,Ana\n", 64)
    assert source.header_line == 201 and lines(rows) == [202] and source.blank_lines == 200


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_bom_split_across_tiny_chunks_is_still_removed(tmp_path: Path, encoding: str) -> None:
    source, rows = _read_with_chunk(tmp_path, "id,name\n1,Ana\n".encode(encoding), 2)
    assert source.header == ["id", "name"] and cells(rows, 2) == [["1", "Ana"]]


# Text (surrogates encoded, which a strict decoder refuses), random bytes, and the pieces a
# chunk boundary or a bad export leaves: a character's first or last bytes, overlong or too large.
_UTF8_PIECES = st.one_of(
    st.text(max_size=6).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=4),
    st.sampled_from([b"\xc3", b"\xa9", b"\xe2\x82", b"\xf0\x9f", b"\xed\xa0\x80", b"\xc0\x80",
                     b"\xf4\x90\x80\x80", b"\xff"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_UTF8_PIECES, max_size=12), st.lists(st.integers(0, 60), max_size=6))
@example([b"caf\xc3", b"\xa9"], [4])  # a character split between two chunks
@example([b"\xe2\x82"], [])  # cut off by the end of the input
def test_utf8_check_in_chunks_agrees_with_pythons_decoder(pieces: list[bytes], cuts: list[int]) -> None:
    data = b"".join(pieces)
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    chunks = [data[a:b] for a, b in zip(bounds, bounds[1:])]
    try:
        data.decode("utf-8")
        valid = True
    except UnicodeDecodeError:
        valid = False
    assert csv_source.is_utf8(chunks) is valid
