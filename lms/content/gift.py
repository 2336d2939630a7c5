"""Read Moodle's GIFT quiz format into questions of the domain model (pure parsing, no database).

Follows Moodle's own reader (question/format/gift): questions are separated by blank lines,
``//`` lines are comments (``// [tag:x]`` gives a tag), ``$CATEGORY:`` sets the category,
``::title::`` names a question, ``[html]``/``[markdown]``/``[plain]``/``[moodle]`` choose how a
text is read, and ``\\~ \\= \\# \\{ \\} \\: \\n \\\\`` are escapes. Supported types: true/false,
single and multiple choice, short answer, numeric and matching; essays and descriptions are
reported in ``skipped``. Anything malformed is a :class:`Problem` with the line it is on.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from dataclasses import dataclass, field, replace

from lms.content.problems import Problem
from lms.content.questions import (
    ImportResult,
    category_problem,
    nearest_moodle_grade,
    valid_moodle_fraction,
)
from lms.content.rendering import render_inline, sanitise_html
from lms.domain.questions import (
    Choice,
    ChoiceQuestion,
    MatchingQuestion,
    NumericAnswer,
    NumericQuestion,
    Pair,
    Question,
    QuestionType,
    ShortAnswer,
    ShortAnswerQuestion,
    TrueFalseQuestion,
)

__all__ = ["grade_problem", "parse_gift", "parse_number", "plain_to_html", "slug_local_id"]

# Escaped characters are swapped for code points from the last Unicode private-use plane while
# the structure is parsed, then swapped back. `_BLANK` marks a missing-word gap until rendered.
_PLACEHOLDERS = {":": "\U0010fff0", "#": "\U0010fff1", "=": "\U0010fff2", "{": "\U0010fff3",
                 "}": "\U0010fff4", "~": "\U0010fff5", "n": "\U0010fff6", "\\": "\U0010fff7"}
_RESTORE = str.maketrans({v: ("\n" if k == "n" else k) for k, v in _PLACEHOLDERS.items()})
_ESCAPE = re.compile(r"\\([\\:#=~{}n])")
_BLANK = "\U0010fffa"
_GAP = "_____"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FORMAT = re.compile(r"\s*\[(html|markdown|plain|moodle)\]")
_WEIGHT_LIKE = re.compile(r"\s*%([^%\n]{0,16})%")
_WEIGHT_VALUE = re.compile(r"\s*[+-]?\d+(?:[.,]\d+)?\s*")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_TAG = re.compile(r"\[tag:((?:\\\]|[^\]\n])+)\]")
_CONTEXT_PREFIX = re.compile(r"^\$[a-z0-9_]+\$/?")
_MAX_ID = 40
_QID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")


# ---------------------------------------------------------------------------------------------
# Helpers shared with the other importers


def plain_to_html(text: str) -> str:
    """Plain text shown literally: HTML-escaped, line breaks kept as ``<br>``."""
    return html.escape(text, quote=False).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def slug_local_id(title: str, number: int, taken: set[str]) -> str:
    """A question id from a title: kept as it is when already an id (letters, digits, '-', '_', at
    most 40), else a short lower-case slug, else ``q<number>``; made unique against ``taken``
    (which it extends)."""
    if _QID.fullmatch(title.strip()):
        return _unique(title.strip(), taken)
    folded = unicodedata.normalize("NFKD", title.replace("đ", "d").replace("Đ", "D"))
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    slug = re.sub(r"[^a-z0-9_]+", "-", folded).strip("-_")[:_MAX_ID].strip("-_")
    return _unique(slug or f"q{number}", taken)


def _unique(base: str, taken: set[str]) -> str:
    candidate, k = base, 2
    while candidate in taken:
        suffix = f"-{k}"
        candidate = base[: _MAX_ID - len(suffix)].rstrip("-_") + suffix
        k += 1
    taken.add(candidate)
    return candidate


def grade_problem(percent: float) -> str | None:
    """Why ``percent`` is not a grade Moodle allows for an answer, or None."""
    if math.isfinite(percent) and valid_moodle_fraction(percent):
        return None
    shown = _percent_text(percent)
    if not math.isfinite(percent):
        return f"invalid grade {shown}% for an answer (Moodle allows fixed grades such as 100%, 50%, 33.33333%)"
    nearest = _percent_text(nearest_moodle_grade(percent))
    return (f"invalid grade {shown}% for an answer (Moodle allows fixed grades such as 100%, 50%, "
            f"33.33333%, 25%; the nearest is {nearest}%)")


def parse_number(text: str) -> float | None:
    """A decimal number written with a dot (``-1.5``, ``2e3``), or None."""
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def category_name(raw: str) -> str:
    """A Moodle category path without its context prefix (``$course$/A/B`` -> ``A/B``)."""
    return _CONTEXT_PREFIX.sub("", raw.strip()).strip()


def _percent_text(percent: float) -> str:
    if not math.isfinite(percent):
        return str(percent)
    return f"{percent:.5f}".rstrip("0").rstrip(".") or "0"


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass
class _Chunk:
    lines: list[tuple[int, str]] = field(default_factory=list)  # content lines; comments blanked
    comments: list[str] = field(default_factory=list)
    has_content: bool = False


def _chunks(text: str) -> list[_Chunk | tuple[int, str]]:
    """Blank-line separated questions, with ``$CATEGORY:`` lines as (line, name) items in order."""
    items: list[_Chunk | tuple[int, str]] = []
    current = _Chunk()

    def flush() -> None:
        nonlocal current
        if current.has_content:
            items.append(current)
        current = _Chunk()

    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped.startswith("//"):
            current.comments.append(stripped)
            if current.has_content:
                current.lines.append((number, ""))
        elif stripped.startswith("$CATEGORY:"):
            flush()
            items.append((number, stripped[len("$CATEGORY:"):]))
        else:
            current.lines.append((number, line))
            current.has_content = True
    flush()
    return items


def _escape(text: str) -> str:
    return _ESCAPE.sub(lambda m: _PLACEHOLDERS[m.group(1)], text)


def _restore(text: str) -> str:
    return text.translate(_RESTORE)


def _split_format(text: str, default: str) -> tuple[str, str]:
    """(format, text without its ``[format]`` marker)."""
    m = _FORMAT.match(text)
    if m:
        return m.group(1), text[m.end():]
    return default, text


def _render(text: str, fmt: str) -> str:
    """Escaped GIFT text (placeholders still in) to sanitised HTML."""
    text = _restore(text).strip()
    if not text:
        return ""
    if fmt == "html":
        out = sanitise_html(text)
    elif fmt == "markdown":
        out = render_inline(text)
    else:
        out = plain_to_html(text)
    return out.replace(_BLANK, _GAP)


def _render_with_format(text: str, default: str) -> str:
    fmt, rest = _split_format(text, default)
    return _render(rest, fmt)


@dataclass
class _Part:
    marker: str  # "=", "~" or "" (text before the first marker)
    text: str
    offset: int  # position of `text` in the question's escaped text


def _split_answers(body: str, offset: int, markers: str) -> list[_Part]:
    parts: list[_Part] = []
    start, marker = 0, ""
    for m in re.finditer(f"[{re.escape(markers)}]", body):
        parts.append(_Part(marker, body[start:m.start()], offset + start))
        start, marker = m.end(), m.group()
    parts.append(_Part(marker, body[start:], offset + start))
    return parts


class _QuestionReader:
    """Reads one blank-line separated question."""

    def __init__(self, chunk: _Chunk, source: str, number: int, category: str,
                 result: ImportResult, taken: set[str]) -> None:
        self.source, self.number, self.category, self.result, self.taken = source, number, category, result, taken
        self.first_line = chunk.lines[0][0]
        self.text = _escape("\n".join(line for _, line in chunk.lines))
        self.tags = tuple(_restore(t.replace("\\]", "]")).strip()
                          for c in chunk.comments for t in _TAG.findall(c))
        self.name = f"q{number}"
        self.failed = False

    def line_at(self, pos: int) -> int:
        return self.first_line + self.text.count("\n", 0, max(0, pos))

    def problem(self, pos: int, message: str) -> None:
        self.result.problems.append(Problem(self.source, self.line_at(pos), f"question '{self.name}': {message}"))
        self.failed = True

    def skip(self, kind: str, note: str = "") -> None:
        message = f"{kind} question '{self.name}' is not supported and was not imported{note}"
        self.result.skipped.append(Problem(self.source, self.first_line, message))

    def read(self) -> None:
        text = self.text
        pos = len(text) - len(text.lstrip())
        title = ""
        if text.startswith("::", pos):
            end = text.find("::", pos + 2)
            if end < 0:
                self.problem(pos, "the title starts with '::' but is not closed with '::'")
                return
            title = _restore(text[pos + 2:end]).strip()
            pos = end + 2
        if title:
            self.name = title.replace("\n", " ")
        open_ = text.find("{", pos)
        stray = text.find("}", pos, open_ if open_ >= 0 else len(text))
        if stray >= 0:
            self.problem(stray, "'}' without an opening '{' (write \\} for a literal brace)")
            return
        if open_ < 0:
            self.skip("description", " (it has no answer block {...})")
            return
        close = text.find("}", open_ + 1)
        if close < 0:
            self.problem(open_, "the answer block '{' is not closed with '}'")
            return
        inner = text.find("{", open_ + 1, close)
        if inner >= 0:
            self.problem(inner, "'{' inside an answer block (write \\{ for a literal brace)")
            return
        after = text[close + 1:]
        extra = re.search(r"[{}]", after)
        if extra:
            self.problem(close + 1 + extra.start(),
                         "a second answer block or a stray brace after the answer block "
                         "(write \\{ and \\} for literal braces)")
            return

        # Question text: the answer block is removed, or becomes a gap when text follows it.
        stem = text[pos:open_] + (_BLANK + after if after.strip() else "")
        fmt, stem = _split_format(stem, "moodle")
        text_html = _render(stem, fmt)

        block_start = open_ + 1
        block = text[block_start:close]
        feedback_html = ""
        gf = block.rfind("####")
        if gf >= 0:
            feedback_html = _render_with_format(block[gf + 4:], fmt)
            block = block[:gf]
        lead = len(block) - len(block.lstrip())
        body = block.strip()
        body_pos = block_start + lead

        local_id = slug_local_id(title, self.number, self.taken)
        question: Question
        if not body:
            self.skip("essay")
            return
        if body[0] == "#":
            question = self.numeric(body[1:], body_pos + 1, fmt)
        elif "~" in body:
            question = self.choices(body, body_pos, fmt)
        elif "=" in body and "->" in body:
            question = self.matching(body, body_pos, fmt)
        elif body.split("#", 1)[0].strip().upper() in ("T", "TRUE", "F", "FALSE"):
            question = self.true_false(body, fmt)
        elif body.startswith("="):
            question = self.short_answer(body, body_pos, fmt)
        else:
            self.problem(body_pos, "the answer block is not recognised: expected T or F, '=' and '~' choices, "
                                   "'=' answers, '=left -> right' pairs or '#' and a number")
            return
        if not text_html.strip():
            self.problem(pos, "the question has no text")
        if self.failed:
            return
        self.result.questions.append(replace(
            question, local_id=local_id, text_html=text_html, source=self.source, line=self.first_line,
            points=1.0, feedback_html=feedback_html, tags=self.tags, category=self.category))

    # -- answer parts --------------------------------------------------------------------------

    def weight(self, part: _Part) -> tuple[float | None, str, int]:
        """(fraction or None, text after the weight, its offset)."""
        m = _WEIGHT_LIKE.match(part.text)
        if not m or not _WEIGHT_VALUE.fullmatch(m.group(1)):
            if m and re.fullmatch(r"[\s\d+\-.,]*", m.group(1)):
                self.problem(part.offset, f"'%{m.group(1)}%' is not a valid weight (write e.g. %50% or %-100%)")
                return None, part.text[m.end():], part.offset + m.end()
            return None, part.text, part.offset
        percent = float(m.group(1).strip().replace(",", "."))
        message = grade_problem(percent)
        if message:
            self.problem(part.offset, message)
        return percent / 100.0, part.text[m.end():], part.offset + m.end()

    def leading_text(self, parts: list[_Part]) -> list[_Part]:
        first = parts[0]
        if first.text.strip():
            self.problem(first.offset + len(first.text) - len(first.text.lstrip()),
                         f"unexpected text '{_restore(first.text).strip()[:40]}' before the first answer")
        return parts[1:]

    def choices(self, body: str, pos: int, fmt: str) -> ChoiceQuestion:
        parts = self.leading_text(_split_answers(body, pos, "=~"))
        read: list[tuple[str, float | None, str, str]] = []
        for part in parts:
            fraction, rest, rest_pos = self.weight(part)
            answer, _, feedback = rest.partition("#")
            answer_html = _render_with_format(answer, fmt)
            if not answer_html:
                self.problem(rest_pos, "an answer has no text")
            read.append((part.marker, fraction, answer_html, _render_with_format(feedback, fmt) if feedback else ""))
        correct = sum(1 for marker, _, _, _ in read if marker == "=")
        weighted = any(fraction is not None for _, fraction, _, _ in read)
        if not weighted and correct <= 1:
            if correct == 0:
                self.problem(0, "a single-choice question needs one correct answer marked with '='")
            choices = tuple(Choice(text, 1.0 if marker == "=" else 0.0, feedback)
                            for marker, _, text, feedback in read)
            return ChoiceQuestion(type=QuestionType.SINGLE, choices=choices)
        choices = tuple(Choice(text, fraction if fraction is not None else (1.0 if marker == "=" else 0.0),
                                  feedback) for marker, fraction, text, feedback in read)
        if not any(c.fraction > 0 for c in choices):
            self.problem(0, "a multiple-choice question needs at least one answer with a positive weight")
        return ChoiceQuestion(type=QuestionType.MULTIPLE, choices=choices)

    def true_false(self, body: str, fmt: str) -> TrueFalseQuestion:
        bits = body.split("#", 2)
        answer = bits[0].strip().upper() in ("T", "TRUE")
        wrong = _render_with_format(bits[1], fmt) if len(bits) > 1 else ""
        right = _render_with_format(bits[2], fmt) if len(bits) > 2 else ""
        # The first feedback is for a wrong response, the second for a right one.
        if answer:
            return TrueFalseQuestion(answer=True, feedback_true_html=right, feedback_false_html=wrong)
        return TrueFalseQuestion(answer=False, feedback_true_html=wrong, feedback_false_html=right)

    def short_answer(self, body: str, pos: int, fmt: str) -> ShortAnswerQuestion:
        answers: list[ShortAnswer] = []
        for part in self.leading_text(_split_answers(body, pos, "=")):
            fraction, rest, rest_pos = self.weight(part)
            answer, _, feedback = rest.partition("#")
            answer_text = _restore(answer).strip()
            if not answer_text:
                self.problem(rest_pos, "an accepted answer is empty")
            answers.append(ShortAnswer(answer_text, 1.0 if fraction is None else fraction,
                                          _render_with_format(feedback, fmt) if feedback else ""))
        if answers and not any(a.fraction > 0 for a in answers):
            self.problem(0, "a short-answer question needs an answer that gives credit")
        return ShortAnswerQuestion(answers=tuple(answers))

    def matching(self, body: str, pos: int, fmt: str) -> MatchingQuestion:
        pairs: list[Pair] = []
        for part in self.leading_text(_split_answers(body, pos, "=")):
            pair_fmt, rest = _split_format(part.text, fmt)
            left, arrow, right = rest.partition("->")
            if not arrow:
                self.problem(part.offset, f"'{_restore(part.text).strip()[:40]}' is not a pair 'left -> right'")
                continue
            right_html = _render_with_format(right, pair_fmt)
            if not right_html:
                self.problem(part.offset, "a pair has nothing after '->'")
                continue
            pairs.append(Pair(_render(left, pair_fmt), right_html))
        if not self.failed and len([p for p in pairs if p.left_html]) < 2:
            self.problem(0, "a matching question needs at least 2 pairs 'left -> right'")
        return MatchingQuestion(pairs=tuple(pairs))

    def numeric(self, body: str, pos: int, fmt: str) -> NumericQuestion:
        numbers: list[NumericAnswer] = []
        for part in _split_answers(body, pos, "=~"):
            if not part.marker and not part.text.strip():
                continue
            fraction, rest, rest_pos = self.weight(part)
            if fraction is None:
                fraction = 0.0 if part.marker == "~" else 1.0
            spec, _, feedback = rest.partition("#")
            feedback_html = _render_with_format(feedback, fmt) if feedback else ""
            spec = _restore(spec).strip()
            if not spec or spec == "*":
                if part.marker == "~" or (spec == "*" and fraction <= 0):
                    continue  # Moodle's "any other answer" feedback: every other number is wrong anyway
                self.problem(rest_pos, "a numeric answer needs a number" if not spec else
                             "an answer '*' that gives credit is not supported")
                continue
            parsed = self.number_spec(spec, rest_pos)
            if parsed is not None:
                numbers.append(NumericAnswer(parsed[0], parsed[1], fraction, feedback_html))
        if not self.failed and not any(n.fraction > 0 for n in numbers):
            self.problem(0, "a numeric question needs an answer that gives credit")
        return NumericQuestion(numbers=tuple(numbers))

    def number_spec(self, spec: str, pos: int) -> tuple[float, float] | None:
        """``3``, ``3:0.5`` (value:tolerance) or ``1..5`` (range) -> (value, tolerance)."""
        dots = spec.find("..")
        if dots > 0:
            low, high = parse_number(spec[:dots]), parse_number(spec[dots + 2:])
            if low is None or high is None:
                self.problem(pos, f"'{spec}' is not a range of numbers like 1..5")
                return None
            if low > high:
                self.problem(pos, f"the range '{spec}' starts above its end")
                return None
            return (low + high) / 2, (high - low) / 2
        value_text, colon, tolerance_text = spec.partition(":")
        value = parse_number(value_text)
        tolerance = parse_number(tolerance_text) if colon else 0.0
        if value is None:
            hint = " (use a dot for decimals)" if re.fullmatch(r"[+-]?\d+,\d+", value_text.strip()) else ""
            self.problem(pos, f"'{value_text.strip()}' is not a number{hint}")
            return None
        if tolerance is None or tolerance < 0:
            self.problem(pos, f"the tolerance '{tolerance_text.strip()}' must be a number, 0 or more")
            return None
        return value, tolerance


def parse_gift(text: str, source: str) -> ImportResult:
    """Read a GIFT file's text; ``source`` names it in problems."""
    result = ImportResult()
    text = text.removeprefix("\ufeff")
    items = _chunks(text)
    category = ""
    taken: set[str] = set()
    number = 0
    for item in items:
        if isinstance(item, tuple):
            category = category_name(_restore(_escape(item[1])))
            message = category_problem(category)
            if message:
                result.problems.append(Problem(source, item[0], message))
            continue
        number += 1
        _QuestionReader(item, source, number, category, result, taken).read()
    return result
