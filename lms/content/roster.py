"""Read an official roster from CSV (UTF-8, with or without BOM, any line ending) or the first
sheet of an XLSX. Problems are ``FILE:ROW:COLUMN: message``, rows numbered as a spreadsheet
numbers them (the header is row 1)."""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["COLUMNS", "RosterRow", "read_roster", "read_table"]

COLUMNS = ("full_name", "login", "unit_code", "agency", "position")
REQUIRED = ("full_name", "login", "unit_code", "agency")


# What reading a damaged or foreign .xlsx raises: zipfile, zlib and XML parser errors (both
# ElementTree's and lxml's are SyntaxErrors), and openpyxl's readers' KeyError, IndexError (no
# sheet), ValueError, TypeError and AttributeError on parts that are missing or malformed.
# NotImplementedError: zipfile's answer to a part stored with a method or flag it cannot read
# (encrypted, "compressed patched data", an unknown compression method).
_XLSX_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, SyntaxError, KeyError, IndexError, ValueError,
                TypeError, AttributeError, NotImplementedError)


# Limits for an uploaded workbook (decompression bombs): an .xlsx is a zip, and a few kilobytes
# can inflate to gigabytes. The zip's directory is checked before openpyxl opens anything (zipfile
# never inflates a member past the size the directory declares), then the sheet is streamed
# (read_only) with rows, columns and cells capped. A real roster of a province's officials is far
# below every limit.
MAX_XLSX_MEMBERS = 200
MAX_XLSX_INFLATED = 64 * 1024 * 1024  # bytes, all members together
MAX_ROWS = 100_000
MAX_COLUMNS = 64  # the tables read here have five or six columns; a sheet claiming 16,384 is not padded out
MAX_CELLS = 1_000_000
MAX_EMPTY_RUN = 1_000  # a sheet that jumps to row 1,048,576 is refused at once, not after 100,000 blank rows


class TooLarge(ValueError):
    """A workbook past one of the limits above; the message says which, for the person uploading."""


@dataclass(frozen=True)
class RosterRow:
    row: int
    values: dict[str, str]


def _check_zip(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > MAX_XLSX_MEMBERS:
            raise TooLarge(f"the workbook has {len(members)} parts; at most {MAX_XLSX_MEMBERS} are accepted")
        inflated = sum(m.file_size for m in members)
        if inflated > MAX_XLSX_INFLATED:
            raise TooLarge(f"the workbook unpacks to {inflated // (1024 * 1024)} MB; at most "
                           f"{MAX_XLSX_INFLATED // (1024 * 1024)} MB are accepted")


def _cells_xlsx(path: Path) -> list[list[str]]:
    import openpyxl  # heavy at import time, and only spreadsheets need it

    _check_zip(path)
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        # The sheet's own <dimension> may lie either way: too small would silently drop rows,
        # too large would pad every row out. Read what is there, at most MAX_COLUMNS wide.
        sheet.reset_dimensions()
        table: list[list[str]] = []
        cells = empty_run = 0
        for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            if len(table) >= MAX_ROWS:  # counts the empty rows a sheet skips to, too
                raise TooLarge(f"the sheet has more than {MAX_ROWS} rows")
            if row.count(None) == len(row):  # an empty row, or one a sheet skips over: C speed
                empty_run += 1
                if empty_run > MAX_EMPTY_RUN:
                    raise TooLarge(f"the sheet has more than {MAX_EMPTY_RUN} empty rows in a row")
                table.append([])
                continue
            empty_run = 0
            values = list(row)
            while values[-1] is None:
                values.pop()
            cells += len(values) - values.count(None)
            if cells > MAX_CELLS:
                raise TooLarge(f"the sheet has more than {MAX_CELLS} cells")
            table.append(["" if c is None else str(c) for c in values])
        return table
    finally:
        book.close()


def read_roster(path: Path) -> tuple[list[RosterRow], list[str]]:
    return read_table(path, COLUMNS, REQUIRED)


def read_table(path: Path, columns: tuple[str, ...], required: tuple[str, ...]) -> tuple[list[RosterRow], list[str]]:
    """Rows of a CSV or XLSX table with a header naming ``columns`` (in any order)."""
    name = str(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            table = _cells_xlsx(path)
        except TooLarge as exc:
            return [], [f"{name}:1:-: the file is too large to import: {exc}"]
        except _XLSX_ERRORS as exc:  # a damaged or foreign file: zipfile's, XML's and openpyxl's own errors
            detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
            return [], [f"{name}:1:-: cannot read the file as an Excel workbook ({detail})"]
    else:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            return [], [f"{name}:1:-: cannot read the file ({exc.strerror or exc})"]
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            return [], [f"{name}:{line}:-: the file is not UTF-8 text"]
        table = []
        try:
            for record in csv.reader(io.StringIO(text.replace("\r\n", "\n").replace("\r", "\n"))):
                table.append(record)
        except csv.Error as exc:  # e.g. a cell longer than csv's field limit (128 KiB)
            return [], [f"{name}:{len(table) + 1}:-: not a readable CSV row ({exc})"]
    if not table:
        return [], [f"{name}:1:-: the file is empty"]
    header = [h.strip().lstrip("\ufeff") for h in table[0]]
    missing = [c for c in required if c not in header]
    if missing:
        return [], [f"{name}:1:{c}: missing column '{c}'" for c in missing]
    index = {h: i for i, h in enumerate(header) if h in columns}
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        values = {col: (cells[i].strip() if i < len(cells) else "") for col, i in index.items()}
        rows.append(RosterRow(number, values))
    return rows, []
