"""Decompression bombs and oversized sheets in uploaded workbooks are refused cleanly (issue 13,
item 5). The bombs are made here, by the test; how long refusing takes and how much memory it
needs is measured in bench/xlsx_bombs.py, not here."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from lms.content import roster
from lms.content.roster import read_roster

_CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
       'content-types"><Default Extension="rels" '
       'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
       '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
       '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
       'worksheet+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
         'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_BOOK = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
         'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" '
         'sheetId="1" r:id="rId1"/></sheets></workbook>')
_BOOK_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
              '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
              'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
_HEADER = ["full_name", "login", "unit_code", "agency", "position"]


def _workbook(path: Path, sheet_xml: bytes | str, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _BOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _BOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return path


def _sheet(rows: str, dimension: str = "A1:E1") -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            f'2006/main"><dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>')


def _header_row() -> str:
    cells = "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(_HEADER))
    return f'<row r="1">{cells}</row>'


def test_a_zip_bomb_is_refused_before_anything_is_inflated(tmp_path: Path) -> None:
    # 80 MB of spaces inside the sheet, a few tens of kilobytes on disk
    padding = b" " * (80 * 1024 * 1024)
    xml = _sheet(_header_row()).encode().replace(b"<sheetData>", padding + b"<sheetData>")
    bomb = _workbook(tmp_path / "bomb.xlsx", xml)
    assert bomb.stat().st_size < 200_000
    rows, problems = read_roster(bomb)
    assert rows == [] and len(problems) == 1
    assert "too large" in problems[0] and "MB" in problems[0] and problems[0].startswith(f"{bomb}:1:-:")


def test_a_workbook_of_too_many_parts_is_refused(tmp_path: Path) -> None:
    many = {f"xl/media/p{i}.xml": b"<x/>" for i in range(roster.MAX_XLSX_MEMBERS + 1)}
    path = _workbook(tmp_path / "many.xlsx", _sheet(_header_row()), many)
    rows, problems = read_roster(path)
    assert rows == [] and "parts" in problems[0]


def test_too_many_rows_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(roster, "MAX_ROWS", 50)
    body = _header_row() + "".join(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>Tên {n}</t></is></c></row>'
                                   for n in range(2, 60))
    rows, problems = read_roster(_workbook(tmp_path / "rows.xlsx", _sheet(body)))
    assert rows == [] and "more than 50 rows" in problems[0]


def test_a_sheet_that_jumps_to_its_last_row_is_refused_at_once(tmp_path: Path) -> None:
    far = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    rows, problems = read_roster(_workbook(tmp_path / "far.xlsx", _sheet(_header_row() + far)))
    assert rows == [] and "empty rows in a row" in problems[0]


def test_too_many_cells_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(roster, "MAX_CELLS", 100)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(_HEADER)
    for n in range(30):
        sheet.append([f"Tên {n}", f"u{n}@example.vn", "86", "Sở", "Chuyên viên"])
    book.save(tmp_path / "cells.xlsx")
    rows, problems = read_roster(tmp_path / "cells.xlsx")
    assert rows == [] and "more than 100 cells" in problems[0]


def test_a_sheet_that_claims_every_column_is_not_padded_out(tmp_path: Path) -> None:
    body = _header_row() + ('<row r="2"><c r="A2" t="inlineStr"><is><t>Lê Văn Tám</t></is></c><c r="B2" '
                            't="inlineStr"><is><t>tam@example.vn</t></is></c><c r="C2" t="inlineStr"><is><t>86</t></is>'
                            '</c><c r="D2" t="inlineStr"><is><t>Sở</t></is></c></row>')
    path = _workbook(tmp_path / "wide.xlsx", _sheet(body, dimension="A1:XFD1048576"))
    rows, problems = read_roster(path)
    assert problems == [] and len(rows) == 1 and rows[0].values["login"] == "tam@example.vn"


def test_an_ordinary_workbook_still_reads(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(_HEADER)
    sheet.append(["Nguyễn Thị Hồng Nhung", "nhung@example.vn", "86", "Sở Nội vụ", "Chuyên viên"])
    buffer = io.BytesIO()
    book.save(buffer)
    (tmp_path / "ok.xlsx").write_bytes(buffer.getvalue())
    rows, problems = read_roster(tmp_path / "ok.xlsx")
    assert problems == [] and rows[0].values["full_name"] == "Nguyễn Thị Hồng Nhung"


@pytest.mark.parametrize("flag_bits,compress_type", [(0x20, None), (None, 99)], ids=["patched-data", "aes-method"])
def test_a_zip_entry_python_cannot_open_is_a_clear_error_not_a_crash(
        tmp_path: Path, flag_bits: int | None, compress_type: int | None) -> None:
    """Found by the fuzz test in a fresh clone: a sheet stored as "compressed patched data" (flag
    bit 5), or with a compression method zipfile lacks, made zipfile raise NotImplementedError,
    which escaped the reader (a 500 on upload instead of a FILE:1 error)."""
    plain = _workbook(tmp_path / "plain.xlsx", _sheet(_header_row()))
    sheet = zipfile.ZipFile(plain).getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(plain.read_bytes())
    # The sheet's entry in the zip's central directory: signature, then flags at +8, method at +10.
    name = sheet.filename.encode()
    at = data.index(b"PK\x01\x02")
    while bytes(data[at + 46:at + 46 + len(name)]) != name:
        at = data.index(b"PK\x01\x02", at + 4)
    if flag_bits is not None:
        data[at + 8:at + 10] = (sheet.flag_bits | flag_bits).to_bytes(2, "little")
    if compress_type is not None:
        data[at + 10:at + 12] = compress_type.to_bytes(2, "little")
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(bytes(data))
    rows, problems = read_roster(damaged)
    assert rows == []
    assert problems and problems[0].startswith(f"{damaged}:1:-: cannot read the file as an Excel workbook")
