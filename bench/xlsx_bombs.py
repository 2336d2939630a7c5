"""How long refusing an XLSX bomb takes and how much memory it needs (issue 13, item 5).

    .venv/bin/python bench/xlsx_bombs.py

Each case runs in a fresh process; memory is tracemalloc's peak during the read alone.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CASE = r'''
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.content import test_xlsx_bombs as t
from lms.content.roster import read_roster
kind, folder = sys.argv[1], Path(sys.argv[2])
if kind == "zip-bomb":  # 1 GiB of spaces in the sheet, a megabyte on disk
    xml = t._sheet(t._header_row()).encode().replace(b"<sheetData>", b" " * (1024 ** 3) + b"<sheetData>")
    path = t._workbook(folder / "bomb.xlsx", xml)
    del xml
elif kind == "row-bomb":  # a sheet that jumps to row 1,048,576
    far = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    path = t._workbook(folder / "rows.xlsx", t._sheet(t._header_row() + far))
else:  # the largest sheet accepted: 99,999 rows of five columns
    import openpyxl
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(t._HEADER)
    for n in range(99_999):
        sheet.append([f"Nguyễn Văn {{n}}", f"u{{n}}@example.vn", "86", "Sở Nội vụ", "Chuyên viên"])
    path = folder / "big.xlsx"
    book.save(path)
import tracemalloc
tracemalloc.start()
start = time.perf_counter()
rows, problems = read_roster(path)
took = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1]
print(f"{{kind}}: {{path.stat().st_size // 1024}} KiB on disk, {{took:.3f}} s, rows {{len(rows)}}, "
      f"peak Python memory while reading {{peak / 2**20:.1f}} MiB: {{(problems or ['accepted'])[0][-80:]}}")
'''


def main() -> None:
    for kind in ("zip-bomb", "row-bomb", "largest-accepted"):
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run([sys.executable, "-c", CASE.format(root=str(ROOT)), kind, folder], check=True)


if __name__ == "__main__":
    main()
