"""Write questions as GIFT with GIFT's special characters escaped. A question whose every text is
plain (no markup, one line) is written as plain text, which GIFT reads back the same: trainers
editing the bank in the browser see their words, not ``[html]`` on every line. Any other question
writes each text as ``[html]``.

``parse_gift(export_gift(questions))`` gives questions that grade the same, except for what
GIFT cannot say, which is written as a ``//`` comment line instead: ordering questions (skipped),
all-or-nothing scoring, case-sensitive or diacritics-free short answers, points other than 1,
and partial credit on a single-choice question (read back as multiple choice). A short-answer
question with an accepted answer containing ``->`` cannot be written either (GIFT has no escape
for it) and is skipped with a comment, like ordering questions.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterator

from lms.content.gift import plain_to_html
from lms.domain.questions import (
    ChoiceQuestion,
    MatchingQuestion,
    NumericQuestion,
    Pair,
    Question,
    QuestionType,
    ShortAnswerQuestion,
    TrueFalseQuestion,
)

__all__ = ["export_gift"]

_SPECIAL = str.maketrans({"\\": "\\\\", "~": "\\~", "=": "\\=", "#": "\\#", "{": "\\{", "}": "\\}",
                          ":": "\\:", "\n": "\\n", "\r": ""})


def _escape(text: str) -> str:
    return text.replace("\r\n", "\n").translate(_SPECIAL)


def _html(text: str, plain: bool = False) -> str:
    if plain:
        return _escape(html.unescape(text.strip()))
    # '->' cannot be escaped in GIFT (it would make a matching pair); as HTML it can be "-&gt;".
    return "[html]" + _escape(text.strip().replace("->", "-&gt;"))


def _is_plain(text: str) -> bool:
    """True when GIFT's default (Moodle auto-format) reading of the unescaped text gives this HTML."""
    words = html.unescape(text.strip())
    return (plain_to_html(words) == text.strip() and "\n" not in words and "->" not in words
            and not words.startswith(("[", "%")))


def _texts(q: Question) -> Iterator[str]:
    yield from (q.text_html, q.feedback_html)
    if isinstance(q, TrueFalseQuestion):
        yield from (q.feedback_true_html, q.feedback_false_html)
    elif isinstance(q, ChoiceQuestion):
        for c in q.choices:
            yield from (c.html, c.feedback_html)
    elif isinstance(q, ShortAnswerQuestion):
        yield from (a.feedback_html for a in q.answers)
    elif isinstance(q, NumericQuestion):
        yield from (n.feedback_html for n in q.numbers)
    else:
        for p in q.pairs:
            yield from (p.left_html, p.right_html)


def _feedback(text: str, plain: bool = False) -> str:
    return "#" + _html(text, plain) if text.strip() else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _tag(tag: str) -> str:
    return _one_line(tag).replace("]", "\\]")


def _percent(fraction: float) -> str:
    text = f"{fraction * 100:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _number(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _answer_lines(q: Question, notes: list[str], plain: bool = False) -> list[str] | None:
    """The lines inside ``{...}``, or None when GIFT cannot hold the question."""
    if isinstance(q, ChoiceQuestion):
        if q.type is QuestionType.ORDERING:
            return None
        single_plain = (q.type is QuestionType.SINGLE
                        and sum(1 for c in q.choices if c.fraction == 1.0) == 1
                        and all(c.fraction in (0.0, 1.0) for c in q.choices))
        if q.type is QuestionType.SINGLE and not single_plain:
            notes.append(f"single-choice question '{q.local_id}' gives partial credit; GIFT reads it back "
                         "as multiple choice")
        if q.type is QuestionType.MULTIPLE and q.scoring == "all_or_nothing":
            notes.append(f"question '{q.local_id}': all-or-nothing scoring cannot be written in GIFT")
        if single_plain:
            return [("=" if c.fraction == 1.0 else "~") + _html(c.html, plain) + _feedback(c.feedback_html, plain)
                    for c in q.choices]
        return [f"~%{_percent(c.fraction)}%" + _html(c.html, plain) + _feedback(c.feedback_html, plain)
                for c in q.choices]
    if isinstance(q, TrueFalseQuestion):
        right, wrong = ((q.feedback_true_html, q.feedback_false_html) if q.answer
                        else (q.feedback_false_html, q.feedback_true_html))
        line = "TRUE" if q.answer else "FALSE"
        if wrong.strip() or right.strip():
            line += "#" + (_html(wrong, plain) if wrong.strip() else "")
        if right.strip():
            line += "#" + _html(right, plain)
        return [line]
    if isinstance(q, ShortAnswerQuestion):
        if q.case_sensitive:
            notes.append(f"question '{q.local_id}': case-sensitive answers cannot be written in GIFT")
        if q.accept_without_diacritics:
            notes.append(f"question '{q.local_id}': accepting answers without diacritics cannot be written in GIFT")
        if any("->" in a.text for a in q.answers):
            return None  # an accepted answer with '->' would be read as a matching pair
        lines = []
        for a in q.answers:
            text = _escape(_one_line(a.text))
            weight = "" if a.fraction == 1.0 and not text.startswith("%") else f"%{_percent(a.fraction)}%"
            lines.append("=" + weight + text + _feedback(a.feedback_html, plain))
        return lines
    if isinstance(q, NumericQuestion):
        if not all(math.isfinite(n.value) and math.isfinite(n.tolerance) for n in q.numbers):
            return None
        lines = ["#"]
        for n in q.numbers:
            weight = "" if n.fraction == 1.0 else f"%{_percent(n.fraction)}%"
            lines.append(f"={weight}{_number(n.value)}:{_number(n.tolerance)}" + _feedback(n.feedback_html, plain))
        return lines
    # A pair's [html] marker covers both sides; '->' cannot be escaped, so it is written as HTML.
    return ["=" + _html(p.left_html, plain) + " -> " + _html(p.right_html, plain).removeprefix("[html]")
            for p in _export_order(q)]


def _export_order(q: MatchingQuestion) -> tuple[Pair, ...]:
    """Matched pairs first, then the distractors, as exports have always written them."""
    return q.lefts + tuple(p for p in q.pairs if p.distractor)


def export_gift(questions: list[Question], title: str | None = None) -> str:
    """GIFT text for ``questions``; ``title`` becomes a comment at the top."""
    out: list[str] = []
    if title and title.strip():
        out += ["// " + line for line in title.strip().splitlines()] + [""]
    category = ""
    for q in questions:
        if q.category != category:
            out += [f"$CATEGORY: {_one_line(q.category)}", ""]
            category = q.category
        notes: list[str] = []
        plain = all(_is_plain(t) for t in _texts(q) if t.strip())
        answers = _answer_lines(q, notes, plain)
        if answers is None:
            out += [f"// {q.type} question '{q.local_id}' cannot be written in GIFT", ""]
            continue
        if q.points != 1.0:
            notes.append(f"question '{q.local_id}' is worth {_number(q.points)} points; GIFT cannot say so")
        out += [f"// {note}" for note in notes]
        out += [f"// [tag:{_tag(tag)}]" for tag in q.tags if _tag(tag)]
        name = f"::{_escape(q.local_id)}::" if q.local_id else ""
        out.append(f"{name}{_html(q.text_html, plain)} {{")
        out += answers
        if q.feedback_html.strip():
            out.append("####" + _html(q.feedback_html, plain))
        out += ["}", ""]
    return "\n".join(out).rstrip("\n") + "\n"
