"""Read Moodle XML (``<quiz><question type="...">``) into questions of the domain model.

Supported: multichoice (single or multiple), truefalse, shortanswer, numerical, matching and
ordering, with ``category`` entries setting the category of the questions that follow. Essay,
description, cloze (multianswer) and every other type are reported in ``skipped``, as are
questions whose text refers to embedded files (``@@PLUGINFILE@@``), which are not imported.
The parser neither resolves entities nor reads the network.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from lxml import etree

from lms.content.gift import category_name, grade_problem, parse_number, plain_to_html, slug_local_id
from lms.content.problems import Problem
from lms.content.questions import ImportResult, category_problem
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

__all__ = ["parse_moodle_xml"]

_TYPE_NAMES = {"multianswer": "cloze (multianswer)", "ddwtos": "drag-and-drop into text",
               "gapselect": "select missing words", "calculated": "calculated",
               "calculatedsimple": "simple calculated", "calculatedmulti": "calculated multichoice",
               "randomsamatch": "random short-answer matching"}


def _parser() -> Any:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                           dtd_validation=False, remove_pis=True)


def _children(el: Any, tag: str) -> list[Any]:
    return [c for c in el if isinstance(c.tag, str) and c.tag == tag]


def _child(el: Any, tag: str) -> Any:
    found = _children(el, tag)
    return found[0] if found else None


def _raw_text(el: Any) -> str:
    """The content of ``el``'s ``<text>`` child ('' when missing)."""
    if el is None:
        return ""
    text = _child(el, "text")
    return "".join(text.itertext()) if text is not None else ""


def _render(text: str, fmt: str) -> str:
    text = text.strip()
    if not text:
        return ""
    if fmt == "html":
        return sanitise_html(text)
    if fmt == "markdown":
        return render_inline(text)
    return plain_to_html(text)  # plain_text, moodle_auto_format and anything unknown


def _formatted(el: Any, default: str = "html") -> str:
    """``el``'s ``<text>`` as sanitised HTML, read in ``el``'s ``format``."""
    if el is None:
        return ""
    return _render(_raw_text(el), str(el.get("format", default)))


def _line(el: Any, fallback: int) -> int:
    line = getattr(el, "sourceline", None)
    return line if isinstance(line, int) and line > 0 else fallback


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.result = ImportResult()
        self.category = ""
        self.taken: set[str] = set()
        self.number = 0
        self.name = ""
        self.failed = False

    def problem(self, el: Any, message: str, fallback: int = 1) -> None:
        prefix = f"question '{self.name}': " if self.name else ""
        self.result.problems.append(Problem(self.source, _line(el, fallback), prefix + message))
        self.failed = True

    def skip(self, el: Any, message: str) -> None:
        self.result.skipped.append(Problem(self.source, _line(el, 1), message))

    def fraction(self, answer: Any, line: int) -> float | None:
        raw = str(answer.get("fraction", "0")).strip()
        percent = parse_number(raw)
        if percent is None:
            self.problem(answer, f"the grade '{raw}' of an answer is not a number", line)
            return None
        message = grade_problem(percent)
        if message:
            self.problem(answer, message, line)
            return None
        return percent / 100.0

    # -- questions -----------------------------------------------------------------------------

    def question(self, q: Any) -> None:
        qtype = str(q.get("type", "")).strip()
        line = _line(q, 1)
        self.name = ""
        if qtype == "category":
            self.category = category_name(_raw_text(_child(q, "category")))
            message = category_problem(self.category)
            if message:
                self.problem(q, message, line)
            return
        self.number += 1
        self.failed = False
        title = " ".join(_raw_text(_child(q, "name")).split())
        self.name = title or f"q{self.number}"
        if not qtype:
            self.problem(q, "<question> has no type=\"...\"", line)
            return
        if qtype not in _READERS:
            kind = _TYPE_NAMES.get(qtype, qtype)
            self.skip(q, f"{kind} question '{self.name}' is not supported and was not imported")
            return
        if "@@PLUGINFILE@@" in etree.tostring(q, encoding="unicode"):
            self.skip(q, f"{qtype} question '{self.name}' uses embedded files (@@PLUGINFILE@@), "
                         "which are not supported; it was not imported")
            return
        text_html = _formatted(_child(q, "questiontext"))
        if not text_html:
            self.problem(q, "the question has no text", line)
        points = 1.0
        grade = _child(q, "defaultgrade")
        if grade is not None and (grade.text or "").strip():
            value = parse_number(grade.text)
            if value is None or value <= 0:
                self.problem(grade, f"<defaultgrade> '{grade.text.strip()}' must be a positive number", line)
            else:
                points = value
        question = _READERS[qtype](self, q, line)
        if self.failed or question is None:
            return
        tags = tuple(t for t in (" ".join(_raw_text(tag).split()) for tag in
                                 (_children(_child(q, "tags"), "tag") if _child(q, "tags") is not None else []))
                     if t)
        self.result.questions.append(replace(
            question, local_id=slug_local_id(title, self.number, self.taken), text_html=text_html,
            source=self.source, line=line, points=points, feedback_html=_formatted(_child(q, "generalfeedback")),
            tags=tags, category=self.category))

    def read_multichoice(self, q: Any, line: int) -> ChoiceQuestion:
        single = (q.findtext("single") or "true").strip().lower() in ("true", "1", "yes")
        choices: list[Choice] = []
        for answer in _children(q, "answer"):
            fraction = self.fraction(answer, line)
            text = _formatted(answer)
            if not text:
                self.problem(answer, "an answer has no text", line)
            choices.append(Choice(text, fraction or 0.0, _formatted(_child(answer, "feedback"))))
        if len(choices) < 2:
            self.problem(q, "a multiple-choice question needs at least 2 answers", line)
        elif not self.failed and not any(c.fraction > 0 for c in choices):
            self.problem(q, "no answer has a positive grade", line)
        return ChoiceQuestion(type=QuestionType.SINGLE if single else QuestionType.MULTIPLE, choices=tuple(choices))

    def read_truefalse(self, q: Any, line: int) -> TrueFalseQuestion | None:
        found: dict[bool, tuple[float, str]] = {}
        for answer in _children(q, "answer"):
            value = " ".join(_raw_text(answer).split()).lower()
            if value not in ("true", "false"):
                self.problem(answer, f"a true/false answer must be 'true' or 'false', not '{value}'", line)
                continue
            fraction = self.fraction(answer, line)
            found[value == "true"] = (fraction or 0.0, _formatted(_child(answer, "feedback")))
        if self.failed:
            return None
        right = [value for value, (fraction, _) in found.items() if fraction >= 1.0 - 1e-9]
        if len(right) != 1:
            self.problem(q, "exactly one of the answers 'true' and 'false' must have grade 100", line)
            return None
        return TrueFalseQuestion(answer=right[0], feedback_true_html=found.get(True, (0.0, ""))[1],
                                 feedback_false_html=found.get(False, (0.0, ""))[1])

    def read_shortanswer(self, q: Any, line: int) -> ShortAnswerQuestion:
        answers: list[ShortAnswer] = []
        for answer in _children(q, "answer"):
            fraction = self.fraction(answer, line)
            text = " ".join(_raw_text(answer).split())
            if not text:
                self.problem(answer, "an accepted answer is empty", line)
            answers.append(ShortAnswer(text, fraction or 0.0, _formatted(_child(answer, "feedback"))))
        if not answers:
            self.problem(q, "a short-answer question needs at least one <answer>", line)
        elif not self.failed and not any(a.fraction > 0 for a in answers):
            self.problem(q, "no answer has a positive grade", line)
        usecase = (q.findtext("usecase") or "0").strip().lower() in ("1", "true", "yes")
        return ShortAnswerQuestion(answers=tuple(answers), case_sensitive=usecase)

    def read_numerical(self, q: Any, line: int) -> NumericQuestion:
        numbers: list[NumericAnswer] = []
        for answer in _children(q, "answer"):
            fraction = self.fraction(answer, line)
            raw = _raw_text(answer).strip()
            if raw == "*" and (fraction or 0.0) <= 0:
                continue  # "any other answer": every other number earns nothing anyway
            value = parse_number(raw)
            tolerance_raw = (answer.findtext("tolerance") or "0").strip() or "0"
            tolerance = parse_number(tolerance_raw)
            if value is None:
                self.problem(answer, f"the numeric answer '{raw}' is not a number", line)
                continue
            if tolerance is None or tolerance < 0:
                self.problem(answer, f"the tolerance '{tolerance_raw}' must be a number, 0 or more", line)
                continue
            numbers.append(NumericAnswer(value, tolerance, fraction or 0.0,
                                            _formatted(_child(answer, "feedback"))))
        if not self.failed and not any(n.fraction > 0 for n in numbers):
            self.problem(q, "a numeric question needs an answer with a positive grade", line)
        return NumericQuestion(numbers=tuple(numbers))

    def read_matching(self, q: Any, line: int) -> MatchingQuestion:
        pairs: list[Pair] = []
        for sub in _children(q, "subquestion"):
            left = _formatted(sub)
            right = plain_to_html(" ".join(_raw_text(_child(sub, "answer")).split()))
            if not right:
                if left:
                    self.problem(sub, "a matching item has no answer", line)
                continue
            pairs.append(Pair(left if _visible(left) else "", right))
        if len([p for p in pairs if p.left_html]) < 2:
            self.problem(q, "a matching question needs at least 2 subquestions with an answer", line)
        return MatchingQuestion(pairs=tuple(pairs))

    def read_ordering(self, q: Any, line: int) -> ChoiceQuestion:
        items: list[tuple[float, int, str]] = []
        for index, answer in enumerate(_children(q, "answer")):
            position = parse_number(str(answer.get("fraction", index + 1)))
            text = _formatted(answer)
            if not text:
                self.problem(answer, "an item has no text", line)
            items.append((position if position is not None else float(index + 1), index, text))
        if len(items) < 2:
            self.problem(q, "an ordering question needs at least 2 items", line)
        return ChoiceQuestion(type=QuestionType.ORDERING, choices=tuple(Choice(text) for _, _, text in sorted(items)))


# The Moodle types read, each into one type of the model (multichoice: single or multiple).
_READERS: dict[str, Callable[[_Reader, Any, int], Question | None]] = {
    "multichoice": _Reader.read_multichoice, "truefalse": _Reader.read_truefalse,
    "shortanswer": _Reader.read_shortanswer, "numerical": _Reader.read_numerical,
    "matching": _Reader.read_matching, "ordering": _Reader.read_ordering,
}


def _visible(html: str) -> bool:
    """Whether sanitised HTML shows anything (``<p></p>`` does not)."""
    return bool(re.sub(r"<[^>]*>|&nbsp;|\s", "", html)) or "<img" in html


def parse_moodle_xml(data: bytes, source: str) -> ImportResult:
    """Read a Moodle XML file's bytes; ``source`` names it in problems."""
    reader = _Reader(source)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else 1
        message = " ".join(str(exc.msg or exc).split())  # libxml2's messages hold line breaks
        reader.result.problems.append(Problem(source, line, f"malformed XML: {message}"))
        return reader.result
    except ValueError as exc:
        reader.result.problems.append(Problem(source, 1, f"malformed XML: {exc}"))
        return reader.result
    if root is None:
        reader.result.problems.append(Problem(source, 1, "malformed XML: no root element"))
        return reader.result
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag == "question":
        reader.question(root)
    elif tag != "quiz":
        reader.result.problems.append(Problem(source, _line(root, 1), f"the root element must be <quiz>, not <{tag}>"))
    else:
        for q in _children(root, "question"):
            reader.question(q)
    return reader.result
