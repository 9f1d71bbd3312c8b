"""First look at an uploaded file: is it text, which encoding and delimiter, what is its header."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from typing import Any

from analytics.mappings import ColumnMappingSpec, header_key

SAMPLE_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
UTF8_BOM = codecs.BOM_UTF8
# Share of control characters (other than tab and line ends) above which a file is not text.
CONTROL_SHARE_LIMIT = 0.01
# In a file that is not UTF-8: shares of bytes above 127, and of bytes 128-159 (printable only as
# Windows-1252's quotes, dashes and euro sign), above which it is not a Latin-1 CSV either. A CSV of
# sales is mostly digits, separators and ASCII letters; compressed or encrypted data is not.
HIGH_SHARE_LIMIT = 0.3
C1_SHARE_LIMIT = 0.1
# The first bytes of file formats people upload by mistake (spreadsheets, archives, documents, images).
BINARY_SIGNATURES = (
    b"PK\x03\x04",  # zip: .xlsx, .docx, .zip
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # OLE2: .xls, .doc
    b"\x1f\x8b",  # gzip
    b"BZh",  # bzip2
    b"\xfd7zXZ\x00",  # xz
    b"7z\xbc\xaf\x27\x1c",  # 7-Zip
    b"Rar!\x1a\x07",  # RAR
    b"%PDF-",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"GIF8",
    b"PAR1",  # Parquet
    b"SQLite format 3\x00",
)


class ImportFailure(Exception):
    """The file cannot be imported as it is. Raised inside the import transaction, which rolls back."""

    def __init__(
        self,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        error_count: int | None = None,
        rows_read: int = 0,
        warnings: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        self.error_count = error_count if error_count is not None else len(self.errors)
        self.rows_read = rows_read
        self.warnings = warnings or []


@dataclass(frozen=True)
class FileFacts:
    # The encoding as PostgreSQL names it (UTF8 or LATIN1) and as Python names it.
    pg_encoding: str
    py_encoding: str
    delimiter: str
    header: list[str]


def error_entry(row: int, column: str, value: str | None, reason: str) -> dict[str, Any]:
    return {"row": row, "column": column, "value": "" if value is None else str(value)[:200], "reason": reason}


def delimiter_name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(delimiter, repr(delimiter))


def file_facts_read(sample: bytes, *, file_name: str, spec: ColumnMappingSpec) -> FileFacts:
    """Look at the first bytes of a file. Raises ImportFailure when it is empty or not text."""
    has_bom = sample.startswith(UTF8_BOM)
    body = sample[len(UTF8_BOM) :] if has_bom else sample
    if not body.strip():
        raise ImportFailure(
            f"{file_name}: row 1: the file is empty (no header, no rows).",
            errors=[error_entry(1, "", "", "the file is empty")],
        )
    if has_bom:
        pg_encoding, py_encoding = "UTF8", "utf-8-sig"
    else:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(body, final=len(sample) < SAMPLE_BYTES)
            pg_encoding, py_encoding = "UTF8", "utf-8"
        except UnicodeDecodeError:
            pg_encoding, py_encoding = "LATIN1", "latin-1"
    if _looks_binary(sample, body, utf8=pg_encoding == "UTF8"):
        raise ImportFailure(
            f"{file_name}: row 1: not a text file (it contains binary data); a CSV file is text: "
            "export the data as CSV.",
            errors=[error_entry(1, "", "", "binary data, not CSV text")],
        )
    text = body.decode(py_encoding.replace("-sig", ""), errors="replace")
    delimiter, header = _header_read(text, spec)
    if not header:
        raise ImportFailure(
            f"{file_name}: row 1: the header is missing or longer than {SAMPLE_BYTES // 1024} KB.",
            errors=[error_entry(1, "", "", "no header row")],
        )
    return FileFacts(pg_encoding=pg_encoding, py_encoding=py_encoding, delimiter=delimiter, header=header)


def _looks_binary(sample: bytes, body: bytes, *, utf8: bool) -> bool:
    """Whether the first bytes of a file are not text: a NUL or too many control characters, the
    signature of a binary format, or (not being UTF-8) too many bytes above 127 for a Latin-1 CSV."""
    if sample.startswith(BINARY_SIGNATURES):
        return True
    counts = [body.count(bytes([byte])) for byte in range(256)]
    size = max(len(body), 1)
    controls = sum(counts[byte] for byte in (*range(0, 9), 11, 12, *range(14, 32), 127))
    if counts[0] or controls / size > CONTROL_SHARE_LIMIT:
        return True
    if utf8:
        return False
    return sum(counts[128:]) / size > HIGH_SHARE_LIMIT or sum(counts[128:160]) / size > C1_SHARE_LIMIT


def _header_read(text: str, spec: ColumnMappingSpec) -> tuple[str, list[str]]:
    """The delimiter whose first row holds the most of the mapping's columns (then: the most cells)."""
    wanted = {header_key(column) for column in spec.columns.values()}
    best: tuple[int, int, str, list[str]] | None = None
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            header = next(reader, [])
            complete = reader.line_num > 0 and (
                text.count("\n") >= reader.line_num or len(text.encode()) < SAMPLE_BYTES
            )
        except csv.Error:
            continue
        if not complete:
            continue
        score = (sum(1 for cell in header if header_key(cell) in wanted), len(header))
        if best is None or score > best[:2]:
            best = (*score, delimiter, header)
    if best is None:
        return ",", []
    return best[2], best[3]
