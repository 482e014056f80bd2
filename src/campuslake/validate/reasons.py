"""Machine-readable reason codes for quarantined rows and rejected files, with what to do."""

from __future__ import annotations

from enum import StrEnum


class RowReason(StrEnum):
    """Why a row was quarantined. The value is the stable code written to the lake."""

    TOO_MANY_FIELDS = "too_many_fields"
    TOO_FEW_FIELDS = "too_few_fields"
    MISSING_REQUIRED = "missing_required"
    BAD_TYPE = "bad_type"
    OUT_OF_RANGE = "out_of_range"
    PATTERN_MISMATCH = "pattern_mismatch"
    UNKNOWN_VALUE = "unknown_value"
    BAD_EMAIL = "bad_email"
    BAD_PHONE = "bad_phone"
    EMPTY_AFTER_NORMALIZATION = "empty_after_normalization"
    CONTROL_CHARACTER = "control_character"
    UNCLOSED_QUOTE = "unclosed_quote"
    LINE_BREAK = "line_break"
    REPEATED_HEADER = "repeated_header"
    NOT_UTF8 = "not_utf8"


class FileReason(StrEnum):
    """Why a whole file was rejected (kept byte for byte in quarantine/files/)."""

    EMPTY_FILE = "empty_file"
    NOT_TEXT = "not_text"
    BAD_ENCODING = "bad_encoding"
    BAD_COMPRESSION = "bad_compression"
    NO_HEADER = "no_header"
    MISSING_REQUIRED_COLUMNS = "missing_required_columns"
    DUPLICATE_COLUMNS = "duplicate_columns"


ROW_ADVICE: dict[str, str] = {
    RowReason.TOO_MANY_FIELDS: "the line has more fields than the header; quote values that contain the delimiter",
    RowReason.TOO_FEW_FIELDS: "the line has fewer fields than the header; add the missing values or delimiters",
    RowReason.MISSING_REQUIRED: "fill in the required value",
    RowReason.BAD_TYPE: "write the value in the column's type",
    RowReason.OUT_OF_RANGE: "use a value inside the declared range",
    RowReason.PATTERN_MISMATCH: "use a value in the declared format",
    RowReason.UNKNOWN_VALUE: "use one of the allowed values, or add this spelling to the contract",
    RowReason.BAD_EMAIL: "write a complete address such as name@example.edu",
    RowReason.BAD_PHONE: "write a full phone number, with the country code if it is not local",
    RowReason.EMPTY_AFTER_NORMALIZATION: "the value held only titles or suffixes; write the person's name",
    RowReason.CONTROL_CHARACTER: "delete the invisible character (the exporting tool or a copy and paste put it there)",
    RowReason.UNCLOSED_QUOTE: "a quote opens a field and never closes; remove the stray quote or close it "
                              "(the lines after it were read on their own)",
    RowReason.NOT_UTF8: "retype the value: these bytes were written in another encoding than the rest of "
                        "the file (UTF-8), e.g. a line pasted from an older tool",
    RowReason.REPEATED_HEADER: "the header appears again as a row (exports joined one after the other); "
                               "delete the line",
    RowReason.LINE_BREAK: "the value should be one line; remove the line break, or the stray quote that "
                          "read the next lines of the file into it (they come back as rows once it is gone)",
}
