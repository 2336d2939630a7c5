"""Read an official roster from CSV (UTF-8, with or without BOM, any line ending) or the first
sheet of an XLSX. Problems are ``FILE:ROW:COLUMN: message``, rows numbered as a spreadsheet
numbers them (the header is row 1)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

__all__ = ["COLUMNS", "RosterRow", "read_roster"]

COLUMNS = ("full_name", "login", "unit_code", "agency", "position")
REQUIRED = ("full_name", "login", "unit_code", "agency")


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
    name = str(path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            table = _cells_xlsx(path)
        else:
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                line = raw[: exc.start].count(b"\n") + 1
                return [], [f"{name}:{line}:-: the file is not UTF-8 text"]
            table = list(csv.reader(io.StringIO(text.replace("\r\n", "\n").replace("\r", "\n"))))
    except Exception as exc:  # an unreadable spreadsheet is reported, never a crash
        return [], [f"{name}:1:-: cannot read the file ({type(exc).__name__})"]
    if not table:
        return [], [f"{name}:1:-: the file is empty"]
    header = [h.strip().lstrip("\ufeff") for h in table[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return [], [f"{name}:1:{c}: missing column '{c}'" for c in missing]
    index = {h: i for i, h in enumerate(header) if h in COLUMNS}
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        values = {col: (cells[i].strip() if i < len(cells) else "") for col, i in index.items()}
        rows.append(RosterRow(number, values))
    return rows, []
