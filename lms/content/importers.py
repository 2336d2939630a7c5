"""Read a quiz file in GIFT, Moodle XML or Aiken, guessing the format when not told."""

from __future__ import annotations

import re
from pathlib import Path

from lms.content.aiken import parse_aiken
from lms.content.gift import parse_gift
from lms.content.moodle_xml import parse_moodle_xml
from lms.content.problems import Problem
from lms.content.questions import ImportResult

__all__ = ["FORMATS", "guess_format", "read_questions"]

FORMATS = ("gift", "moodle-xml", "aiken")
_BOM = b"\xef\xbb\xbf"
_AIKEN_ANSWER = re.compile(r"^ANSWER:\s*[A-Z]", re.MULTILINE)
_GIFT_BLOCK = re.compile(r"(?<!\\)\{[^{}]*(?<!\\)\}")
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


def guess_format(path: Path, data: bytes) -> str:
    """``moodle-xml`` for ``.xml`` or XML content, ``aiken`` for ``ANSWER: X`` lines without GIFT
    answer blocks, else ``gift``."""
    head = data.removeprefix(_BOM).lstrip()
    if path.suffix.lower() == ".xml" or head.startswith((b"<?xml", b"<quiz")):
        return "moodle-xml"
    text = data.removeprefix(_BOM).decode("utf-8", errors="replace")
    if _AIKEN_ANSWER.search(text) and not _GIFT_BLOCK.search(text):
        return "aiken"
    return "gift"


def read_questions(path: Path, fmt: str | None = None) -> ImportResult:
    """Read ``path`` (UTF-8, with or without a BOM) as ``fmt`` (guessed when None)."""
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ImportResult(problems=[Problem(source, 1, f"cannot read the file: {exc.strerror or exc}")])
    fmt = fmt or guess_format(path, data)
    if fmt not in FORMATS:
        return ImportResult(problems=[Problem(source, 1, f"unknown quiz format '{fmt}' "
                                                         f"(expected one of: {', '.join(FORMATS)})")])
    if fmt == "moodle-xml":
        return parse_moodle_xml(data, source)
    body = data.removeprefix(_BOM)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = len(_LINE_BREAK.split(body[: exc.start]))
        bad = body[exc.start: exc.start + 1].hex()
        return ImportResult(problems=[Problem(source, line, f"the file is not valid UTF-8 (byte 0x{bad} on this "
                                                            "line); save it as UTF-8")])
    nul = text.find("\x00")
    if nul >= 0:  # a binary file, or UTF-16 read as UTF-8; nor can a database text column hold it
        line = len(_LINE_BREAK.split(body[: len(text[:nul].encode("utf-8"))]))
        return ImportResult(problems=[Problem(source, line, "the file contains a NUL character (byte 0x00) on this "
                                                            "line; a quiz file is UTF-8 text")])
    return parse_gift(text, source) if fmt == "gift" else parse_aiken(text, source)
