"""Property-based fuzzing of every importer's public entry point, without a database.

Whatever the input, an importer returns what it read or reports problems, each a single line
``FILE:LINE: message`` (rosters: ``FILE:ROW:COLUMN: message``) whose line lies inside the file.
It never raises. Inputs are fully random, and also structured: Moodle's own fixtures and the
project's courses, mutated.
"""

from __future__ import annotations

import csv
import io
import math
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openpyxl
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.config import PROJECT_ROOT
from lms.content.aiken import parse_aiken
from lms.content.courses import check_courses
from lms.content.gift import parse_gift
from lms.content.importers import FORMATS, read_questions
from lms.content.moodle_xml import parse_moodle_xml
from lms.content.problems import Problem
from lms.content.questions import ImportResult
from lms.content.roster import COLUMNS, read_roster
from lms.domain.questions import ChoiceQuestion, QuestionType
from tests.shared_dir import SHARED

FIXTURES = SHARED / "fixtures" / "moodle-question-formats"
GIFT_FILES = [*sorted((FIXTURES / "gift").glob("*")), SHARED / "accept" / "sample_quiz.gift"]
AIKEN_FILES = sorted((FIXTURES / "aiken").glob("*"))
XML_FILES = sorted((FIXTURES / "xml").glob("*.xml"))
COURSE = PROJECT_ROOT / "course_content" / "an-toan-so"

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_FILES = settings(max_examples=100, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
QID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,44}$")
ROSTER_PROBLEM = re.compile(r"^(?P<file>.+):(?P<row>\d+):(?P<column>[^:\n]+): (?P<message>\S.*)$")


@contextmanager
def _folder() -> Iterator[Path]:
    # Not pytest's tmp_path: one fresh folder per generated example, not per test.
    with tempfile.TemporaryDirectory(prefix="lms-fuzz-") as tmp:
        yield Path(tmp)


def _lines(text: str) -> int:
    """Lines as an editor counts them (a final line break opens no new line of text)."""
    return max(1, len(re.split(r"\r\n|\r|\n", text)))


def assert_problem_line(p: Problem, source: str, lines: int) -> None:
    shown = str(p)
    assert p.file == source and shown.startswith(f"{source}:{p.line}: "), shown
    assert 1 <= p.line <= lines + 1, f"line {p.line} of a {lines}-line file: {shown}"
    assert p.message.strip(), shown
    assert "\n" not in shown and "\r" not in shown, f"a problem must print as one line: {shown!r}"


def assert_sound(result: ImportResult, source: str, lines: int) -> None:
    assert isinstance(result, ImportResult)
    for p in result.problems + result.skipped:
        assert_problem_line(p, source, lines)
    ids = [q.local_id for q in result.questions]
    assert len(ids) == len(set(ids)), ids
    for q in result.questions:
        assert q.type in tuple(QuestionType) and QID.match(q.local_id), q
        assert q.source == source and 1 <= q.line <= lines
        assert q.text_html.strip(), q
        choices = q.choices if isinstance(q, ChoiceQuestion) else ()
        for html in (q.text_html, q.feedback_html, *(c.html for c in choices)):
            assert "<script" not in html.lower(), html


# ---------------------------------------------------------------------------------------------
# Generators

_GIFT_TOKENS = ["::", "{", "}", "~", "=", "#", "####", "%", "%50%", "%-100%", "%33%", "%1e9%", "->", "\\", "\\{",
                "\\n", ":", "..", "1..5", "2:0.5", "[html]", "[markdown]", "[plain]", "[moodle]", "T", "FALSE",
                "\n", "\n\n", "\r\n", "//", "// [tag:x]", "$CATEGORY:", "$CATEGORY: $course$/A/B\n", " ", "a", "Đúng",
                "1", "-2.5", "1e999", "<b>", "<script>x</script>", "&", "*", "\t", "_____", "\x00", "\ufeff",
                "\u0958", "\U0010fff0", "{=a ~b}", "{T}", "{#3}", "{=a -> b =c -> d}", "{}", "::t::q{=x}"]
_AIKEN_TOKENS = ["Q", "Câu hỏi", "A)", "B.", "C)x", "Z)", "A) đáp án", "ANSWER:", "ANSWER: A", "ANSWER: B",
                 "ANSWER: z", "ANSWER:A", " ", "\n", "\n\n", "\r\n", "\r", "<x>", "\t", "\x00", "\ufeff"]
_XML_TOKENS = ["<quiz>", "</quiz>", '<question type="multichoice">', '<question type="truefalse">',
               '<question type="shortanswer">', '<question type="numerical">', '<question type="matching">',
               '<question type="ordering">', '<question type="category">', '<question type="essay">',
               '<question type="">', "<question>", "</question>", '<answer fraction="100">',
               '<answer fraction="50">', '<answer fraction="33">', '<answer fraction="x">', '<answer fraction="1e400">',
               '<answer fraction="-100">', "</answer>", "<text>", "</text>", '<questiontext format="html">',
               '<questiontext format="markdown">', "</questiontext>", "true", "false", "3", "*", "<subquestion>",
               "</subquestion>", "<category>", "</category>", "<tolerance>", "</tolerance>", "<single>false</single>",
               "<defaultgrade>-1</defaultgrade>", "<defaultgrade>1e308</defaultgrade>", "<!DOCTYPE quiz>",
               '<!DOCTYPE quiz [<!ENTITY e "x">]>', "&e;", "&amp;", "&#0;", "&#x1F600;", "<![CDATA[<b>x</b>]]>",
               "<name>", "</name>", "<tags><tag><text>t</text></tag></tags>", "@@PLUGINFILE@@", "<?pi x?>",
               "<!-- c -->", "\n", "é", '<?xml version="1.0" encoding="latin-1"?>', "\ufeff", "<script>"]


@st.composite
def mutated(draw: st.DrawFn, original: str, tokens: list[str]) -> str:
    """``original`` after a few random edits: a token inserted, a span deleted or duplicated, two
    lines swapped, the tail cut off."""
    text = original
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "insert", "delete", "duplicate", "swap", "truncate", "random"]))
        at = draw(st.integers(0, len(text)))
        if op == "insert":
            text = text[:at] + draw(st.sampled_from(tokens)) + text[at:]
        elif op == "random":
            text = text[:at] + draw(st.text(max_size=8)) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        elif op == "duplicate":
            end = min(len(text), at + draw(st.integers(1, 200)))
            text = text[:end] + text[at:end] + text[end:]
        elif op == "swap":
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        else:
            text = text[:at]
    return text


def _token_soup(tokens: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(tokens), max_size=50).map("".join)


def _file_text(files: list[Path], tokens: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(files).flatmap(lambda f: mutated(f.read_text(encoding="utf-8"), tokens))


# ---------------------------------------------------------------------------------------------
# Quiz formats, parsed from text


@FUZZ
@given(st.one_of(st.text(), _token_soup(_GIFT_TOKENS), _file_text(GIFT_FILES, _GIFT_TOKENS)))
def test_gift_reads_or_reports_anything(text: str) -> None:
    assert_sound(parse_gift(text, "fuzz.gift"), "fuzz.gift", _lines(text))


@FUZZ
@given(st.one_of(st.text(), _token_soup(_AIKEN_TOKENS), _file_text(AIKEN_FILES, _AIKEN_TOKENS)))
def test_aiken_reads_or_reports_anything(text: str) -> None:
    assert_sound(parse_aiken(text, "fuzz.txt"), "fuzz.txt", _lines(text))


@FUZZ
@given(st.one_of(st.binary(), _token_soup(_XML_TOKENS).map(str.encode),
                 _file_text(XML_FILES, _XML_TOKENS).map(str.encode)))
def test_moodle_xml_reads_or_reports_anything(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    assert_sound(parse_moodle_xml(data, "fuzz.xml"), "fuzz.xml", _lines(text))


def _encoded(text: str) -> st.SearchStrategy[bytes]:
    """The text as a user's editor might have saved it: UTF-8 with or without BOM, or another
    encoding, or with a stray byte."""
    return st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1258", "latin-1", "stray"]).map(
        lambda enc: (text.encode("utf-8") + b"\xff\xfe\x80" if enc == "stray"
                     else text.encode(enc, errors="replace")))


@FUZZ_FILES
@given(st.one_of(st.binary(), _file_text(GIFT_FILES + AIKEN_FILES, _GIFT_TOKENS + _AIKEN_TOKENS).flatmap(_encoded),
                 _file_text(XML_FILES, _XML_TOKENS).flatmap(_encoded)),
       st.sampled_from([None, *FORMATS]), st.sampled_from([".gift", ".txt", ".xml", ".aiken", ""]))
def test_read_questions_reads_or_reports_any_file(data: bytes, fmt: str | None, suffix: str) -> None:
    with _folder() as folder:
        path = folder / f"quiz{suffix}"
        path.write_bytes(data)
        result = read_questions(path, fmt)
    assert_sound(result, str(path), _lines(data.decode("utf-8", errors="replace")))
    if "\x00" in data.decode("utf-8", errors="replace") and fmt != "moodle-xml" and path.suffix != ".xml":
        assert result.problems, "a NUL character cannot be stored: the file must be refused"


# ---------------------------------------------------------------------------------------------
# Rosters (CSV and XLSX)

_CELL = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["Nguyễn Văn An", "cb.an@vinhlong.gov.vn", "0912345678", "28756", "12345", "", " ",
                     "UBND Phường Phú Khương", "a,b", 'say "hi"', "line\nbreak", "=1+1", "\u0958" * 150,
                     "x" * 250, "\x00", "\ufeff"]))
_HEADER = st.lists(st.sampled_from([*COLUMNS, *COLUMNS, "email", "", " full_name ", "\ufefffull_name"]),
                   max_size=8)


def _csv_bytes(header: list[str], rows: list[list[str]], bom: bool, newline: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows([header, *rows])
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode("utf-8")


def assert_roster_sound(rows: list[Any], problems: list[str], path: Path, table_rows: int | None) -> None:
    assert not (rows and problems)
    for line in problems:
        m = ROSTER_PROBLEM.match(line)
        assert m, f"not FILE:ROW:COLUMN: message: {line!r}"
        assert m.group("file") == str(path) and int(m.group("row")) >= 1, line
        if table_rows is not None:
            assert int(m.group("row")) <= table_rows + 1, line
    numbers = [r.row for r in rows]
    assert numbers == sorted(set(numbers)) and all(n >= 2 for n in numbers)
    for r in rows:
        assert set(r.values) <= set(COLUMNS)


@FUZZ_FILES
@given(st.one_of(
    st.binary(),
    st.builds(_csv_bytes, _HEADER, st.lists(st.lists(_CELL, max_size=7), max_size=8), st.booleans(),
              st.sampled_from(["\n", "\r\n", "\r"])),
    st.text().map(str.encode)))
def test_roster_csv_reads_or_reports_anything(data: bytes) -> None:
    with _folder() as folder:
        path = folder / "roster.csv"
        path.write_bytes(data)
        rows, problems = read_roster(path)
    assert_roster_sound(rows, problems, path, data.count(b"\n") + data.count(b"\r") + 1)


_XLSX_CELL = st.one_of(_CELL.map(lambda s: openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE.sub("", s)),
                       st.integers(-10**12, 10**12), st.floats(allow_nan=False), st.none(), st.booleans())


def _xlsx_bytes(header: list[str], rows: list[list[Any]], sheets: int) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for n in range(sheets):
        book.create_sheet(f"Khác {n}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _damaged(data: bytes, at: int, truncate: bool, noise: bytes) -> bytes:
    # The position is drawn independently of the data: a saved workbook's bytes differ from run to
    # run (openpyxl stamps the time), and hypothesis needs the same draws each time.
    cut = at % (len(data) + 1)
    return data[:cut] if truncate else data[:cut] + noise + data[cut + len(noise):]


@FUZZ_FILES
@given(st.one_of(
    st.binary(max_size=200),
    st.builds(_xlsx_bytes, _HEADER, st.lists(st.lists(_XLSX_CELL, max_size=7), max_size=6), st.integers(0, 2)),
    st.builds(_damaged, st.builds(_xlsx_bytes, st.just(list(COLUMNS)),
                                  st.lists(st.lists(_XLSX_CELL, max_size=7), max_size=3), st.just(0)),
              st.integers(0, 2**20), st.booleans(), st.binary(min_size=1, max_size=16))))
def test_roster_xlsx_reads_or_reports_anything(data: bytes) -> None:
    with _folder() as folder:
        path = folder / "roster.xlsx"
        path.write_bytes(data)
        rows, problems = read_roster(path)
    assert_roster_sound(rows, problems, path, None)


# ---------------------------------------------------------------------------------------------
# Course folders: course.toml and Markdown lessons with YAML front matter

_TOML_VALUE = st.recursive(
    st.one_of(st.text(max_size=12), st.integers(-10**20, 10**20), st.booleans(), st.floats(allow_nan=False),
              st.sampled_from(["citizen", "official", "none", "training_year", "1.1", "01-a", "../01-a", "/x",
                               "a\x00b", "x" * 300, "[", "\"", "\\"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(["a", "b", "c"]), inner,
                                                                          max_size=3)),
    max_leaves=8)
_COURSE_KEYS = ["id", "title", "title_en", "summary", "summary_en", "audience", "competences", "version",
                "sequential", "minutes", "mandated", "certificate_validity", "final_quiz", "lessons", "extra"]
_MD_TOKENS = ["# Tiêu đề\n", "text ", "**b** ", "![ảnh](assets/a.png)", "![](assets/a.png)", "![x](http://e/x.png)",
              "![x](../secret.png)", "![x](assets/\x00.png)", "![x](assets/" + "a" * 300 + ".png)", "[l](javascript:x)",
              "<script>x</script>", "!!! note\n    x\n", "| a | b |\n|---|---|\n| 1 | 2 |\n", "> " * 20, "- " * 20,
              "```\ncode\n```\n", "\n", "\n\n", "---\n", "\r\n", "\u0301", "\x00"]


def _toml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_scalar(v)}" for k, v in value.items()) + "}"
    return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in value) + '"'


@st.composite
def _course_toml(draw: st.DrawFn) -> str:
    real = (COURSE / "course.toml").read_text(encoding="utf-8")
    if draw(st.booleans()):
        return draw(mutated(real, ["=", "[", "]", '"', "\n", "lessons = []", "audience = [[1]]", "minutes = -1",
                                   "id = 1", "certificate_validity = []", "x = " + "[" * 600]))
    keys = draw(st.lists(st.sampled_from(_COURSE_KEYS), unique=True, max_size=len(_COURSE_KEYS)))
    lines = [f"{k} = {_toml_scalar(draw(_TOML_VALUE))}" for k in keys]
    if draw(st.booleans()):
        lines.append(f'lessons = ["{draw(st.sampled_from(["01-a", "01-a.md", "02-b"]))}"]')
    return "\n".join(lines) + "\n"


_YAML_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12),
              st.sampled_from(["l-one", "1.1", "7.7", "Bài một"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=6)
_YAML_KEY = st.one_of(st.sampled_from(["id", "title", "title_en", "competences", "minutes", "extra"]),
                      st.integers(), st.none(), st.dates(), st.text(max_size=6))


@st.composite
def _lesson(draw: st.DrawFn) -> str:
    real = sorted(COURSE.glob("01-*.md"))[0].read_text(encoding="utf-8")
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return draw(mutated(real, ["---\n", ":", "- ", "\n", "'", "id: [1]\n", "1: x\n", "? [a]\n: b\n",
                                   "x: " + "[" * 600 + "\n", *_MD_TOKENS]))
    if choice == 1:
        meta = draw(st.dictionaries(_YAML_KEY, _YAML_VALUE, max_size=6))
        front = yaml.safe_dump(meta, allow_unicode=True)
    else:
        front = draw(st.text(max_size=60))
    body = "".join(draw(st.lists(st.one_of(st.sampled_from(_MD_TOKENS), st.text(max_size=10)), max_size=12)))
    return f"---\n{front}\n---\n{body}"


def _text_lines(path: Path) -> int:
    try:
        return _lines(path.read_bytes().decode("utf-8", errors="replace"))
    except OSError:
        return 1


@FUZZ_FILES
@given(_course_toml(), st.dictionaries(st.sampled_from(["01-a.md", "02-b.md", "README.md"]), _lesson(), max_size=2),
       st.booleans())
def test_course_folders_load_or_report_anything(toml: str, lessons: dict[str, str], with_asset: bool) -> None:
    with _folder() as root:
        folder = root / "khoa-hoc"
        (folder / "assets").mkdir(parents=True)
        if with_asset:
            (folder / "assets" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
        (folder / "course.toml").write_text(toml, encoding="utf-8", errors="surrogatepass")
        for name, text in lessons.items():
            (folder / name).write_bytes(text.encode("utf-8", errors="surrogatepass"))
        courses, problems = check_courses(root)
        for p in problems:
            file = Path(p.file)
            assert file.parent == folder, p  # never a file outside the course folder
            assert_problem_line(p, p.file, _text_lines(file))
        assert not (courses and problems)
        for course in courses:
            assert course.lessons and all(lesson.html for lesson in course.lessons)
            assert all("<script" not in lesson.html for lesson in course.lessons)
