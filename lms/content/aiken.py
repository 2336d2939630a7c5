"""Read the Aiken quiz format: single-choice questions in plain text.

    Question text (one or more lines)
    A) first option          (or "A. first option"; the space is optional)
    B) second option
    ANSWER: B

Text is plain and shown literally. Every problem names the line it is on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lms.content.gift import plain_to_html
from lms.content.problems import Problem
from lms.content.questions import ImportResult
from lms.domain.questions import Choice, ChoiceQuestion, QuestionType

__all__ = ["parse_aiken"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_OPTION = re.compile(r"([A-Z])[.)][ \t]?(.*)", re.DOTALL)
_ANSWER = re.compile(r"ANSWER\s*:(.*)", re.DOTALL)


@dataclass
class _Pending:
    line: int
    text: list[str] = field(default_factory=list)
    options: list[tuple[str, str, int]] = field(default_factory=list)  # (letter, text, line)
    broken: bool = False  # already reported; its remaining lines are passed over


def parse_aiken(text: str, source: str) -> ImportResult:
    """Read an Aiken file's text; ``source`` names it in problems."""
    result = ImportResult()
    pending: _Pending | None = None
    number = 0

    def problem(line: int, message: str) -> None:
        result.problems.append(Problem(source, line, message))

    def unfinished(q: _Pending, before: int | None) -> None:
        if q.broken:
            return
        where = f" before line {before}" if before is not None else " before the end of the file"
        if q.options:
            problem(q.line, f"the question has options but no 'ANSWER:' line{where}")
        else:
            problem(q.line, f"the question has no options 'A) ...' and no 'ANSWER:' line{where}")

    for line_number, raw in enumerate(_LINE_BREAK.split(text.removeprefix("\ufeff")), start=1):
        line = raw.strip()
        if not line:
            continue
        option = _OPTION.fullmatch(line)
        answer = _ANSWER.fullmatch(line)
        if option:
            letter, option_text = option.group(1), option.group(2).strip()
            if pending is None:
                problem(line_number, f"option '{letter})' comes before any question text")
                pending = _Pending(line_number, broken=True)
                continue
            if pending.broken:
                continue
            if any(letter == seen for seen, _, _ in pending.options):
                problem(line_number, f"option '{letter}' appears twice in the question")
                pending.broken = True
                continue
            if not option_text:
                problem(line_number, f"option '{letter}' has no text")
                pending.broken = True
                continue
            pending.options.append((letter, option_text, line_number))
        elif answer:
            given = answer.group(1).strip()
            if pending is None:
                problem(line_number, "'ANSWER:' line without a question before it")
                continue
            q, pending = pending, None
            if q.broken:
                continue
            number += 1
            letters = [letter for letter, _, _ in q.options]
            if not q.options:
                problem(line_number, "'ANSWER:' line but the question has no options 'A) ...'")
            elif len(q.options) < 2:
                problem(q.line, f"the question has only {len(q.options)} option; it needs at least 2")
            elif given.upper() not in letters:
                problem(line_number, f"ANSWER '{given}' is not one of the options {', '.join(letters)}")
            else:
                right = given.upper()
                result.questions.append(ChoiceQuestion(
                    local_id=f"q{number}", type=QuestionType.SINGLE,
                    text_html="<br>".join(plain_to_html(t) for t in q.text), source=source, line=q.line,
                    choices=tuple(Choice(plain_to_html(t), 1.0 if letter == right else 0.0)
                                  for letter, t, _ in q.options)))
        else:
            if pending is not None and (pending.options or pending.broken):
                unfinished(pending, line_number)
                pending = None
            if pending is None:
                pending = _Pending(line_number)
            pending.text.append(line)
    if pending is not None:
        unfinished(pending, None)
    return result
