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
_XLSX_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, SyntaxError, KeyError, IndexError, ValueError,
                TypeError, AttributeError)


@dataclass(frozen=True)
class RosterRow:
    row: int
    values: dict[str, str]


def _cells_xlsx(path: Path) -> list[list[str]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        return [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)]
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
