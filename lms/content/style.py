"""Editorial rules for courses and quizzes that older learners finish alone.

The loaders (courses.py, quizzes.py) decide whether a file can be read at all; these rules decide
whether it is fit to publish: short sentences and pages, cited sources that are still fresh,
quiz pools big enough to draw from, four-option single-choice questions and competence tags that
the course declares. An error stops `lms content check`; a warning is printed and exits 0.
"""

from __future__ import annotations

import html
import re
import sys
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lms.content.courses import CourseDoc, LessonDoc, load_courses
from lms.content.problems import Problem
from lms.content.quizzes import QuizDoc, check_quizzes
from lms.domain.questions import ChoiceQuestion, QuestionType

__all__ = [
    "MAX_SENTENCE_WORDS",
    "PAGE_WORDS",
    "POOL_FACTOR",
    "SENTENCE_WORDS",
    "SINGLE_CHOICE_OPTIONS",
    "Finding",
    "check_style",
    "due_for_review",
    "page_word_counts",
    "sentences",
]

SENTENCE_WORDS = 25  # above this, outside lists: a warning
MAX_SENTENCE_WORDS = 40  # above this anywhere: an error
PAGE_WORDS = (150, 450)  # a `## ` page outside this range: a warning (aim for 250-400)
POOL_FACTOR = 3  # a final's pool holds at least this many times its draw
SINGLE_CHOICE_OPTIONS = 4

_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_MARKUP = re.compile(r"!\[[^\]]*\]\([^)]*\)|\[([^\]]*)\]\([^)]*\)|[*_`]+|<[^>]+>")


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    line: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        return f"{self.file}:{self.line}: {kind}{self.message}"

    def problem(self) -> Problem:
        return Problem(self.file, self.line, self.message)


def _plain(text: str) -> str:
    return html.unescape(_MARKUP.sub(lambda m: m.group(1) or " ", text))


def _blocks(body: str) -> list[tuple[int, str, bool]]:
    """(first line, text, is a list item) for each paragraph or list item of running text.
    Headings, tables, images, HTML tags and fenced code are not running text."""
    out: list[tuple[int, str, bool]] = []
    parts: list[str] = []
    start, in_list = 0, False

    def flush() -> None:
        nonlocal parts
        if parts:
            out.append((start, " ".join(parts), in_list))
        parts = []

    fenced = False
    for number, raw in enumerate(body.split("\n"), start=1):
        line = raw.strip()
        if line.startswith("```"):
            fenced = not fenced
            flush()
            continue
        if fenced or not line or line.startswith(("#", "|", "![", "!!!", "???", "<")):
            flush()
            continue
        if _LIST_ITEM.match(raw):
            flush()
            start, in_list = number, True
            parts.append(_LIST_ITEM.sub("", raw, count=1))
            continue
        if not parts:
            start, in_list = number, False
        parts.append(line)
    flush()
    return out


def sentences(body: str) -> list[tuple[int, str, bool]]:
    """(line, sentence, in a list) for every sentence of a lesson body, markup removed."""
    found: list[tuple[int, str, bool]] = []
    for line, text, in_list in _blocks(body):
        for sentence in _SENTENCE_END.split(_plain(text)):
            if sentence.strip():
                found.append((line, " ".join(sentence.split()), in_list))
    return found


def page_word_counts(body: str) -> list[tuple[int, str, int]]:
    """(line, heading, words) for each page of a lesson: the text under each `## ` heading."""
    pages: list[tuple[int, str, int]] = []
    line, heading, words = 1, "", 0
    for number, raw in enumerate(body.split("\n"), start=1):
        if raw.startswith("## "):
            if heading or words:
                pages.append((line, heading, words))
            line, heading, words = number, raw[3:].strip(), 0
            continue
        words += len(_plain(raw).replace("|", " ").split())
    if heading or words:
        pages.append((line, heading, words))
    return pages


def _lesson_findings(lesson: LessonDoc, today: date) -> list[Finding]:
    out: list[Finding] = []
    path, offset = lesson.path or lesson.source, lesson.body_line - 1
    if not lesson.sources:
        out.append(Finding(path, 2, "front matter needs 'sources': the laws, decrees or official pages the "
                                    "lesson relies on, each with the date it was checked"))
    if lesson.review_by is None:
        out.append(Finding(path, 2, "front matter needs 'review_by': the date to read the lesson against its "
                                    "sources again (YYYY-MM-DD)"))
    elif lesson.review_by < today:
        out.append(Finding(path, 2, f"review date {lesson.review_by.isoformat()} has passed: check the lesson "
                                    "against its sources and set a new 'review_by'", warning=True))
    for line, sentence, in_list in sentences(lesson.markdown):
        words = len(sentence.split())
        if words > MAX_SENTENCE_WORDS:
            out.append(Finding(path, offset + line, f"sentence of {words} words (at most {MAX_SENTENCE_WORDS}): "
                                                    f"'{sentence[:50]}…'"))
        elif words > SENTENCE_WORDS and not in_list:
            out.append(Finding(path, offset + line, f"sentence of {words} words (aim for {SENTENCE_WORDS} or "
                                                    f"fewer): '{sentence[:50]}…'", warning=True))
    headings = [raw.lstrip("#").strip() for raw in lesson.markdown.split("\n") if raw.startswith(("## ", "### "))]
    if not any(h.startswith("Thực hành") for h in headings):
        out.append(Finding(path, offset + 1, "no practice section (a heading 'Thực hành...'): give the learner a "
                                             "task on their own phone", warning=True))
    if any(h.startswith("Tự kiểm tra") for h in headings) and "<details" not in lesson.markdown:
        out.append(Finding(path, offset + 1, "self-check answers are not folded in <details markdown=\"1\">: the "
                                             "learner sees them before trying", warning=True))
    low, high = PAGE_WORDS
    for line, heading, words in page_word_counts(lesson.markdown):
        if not low <= words <= high:
            out.append(Finding(path, offset + line, f"page '{heading}' has {words} words (aim for 250-400; "
                                                    f"{low}-{high} accepted)", warning=True))
    return out


def _same(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", _plain(text)).casefold().split())


def _quiz_findings(quiz: QuizDoc, course: CourseDoc | None, lesson_questions: dict[str, str]) -> list[Finding]:
    out: list[Finding] = []
    declared = set(course.competences) if course else set()
    for q in quiz.questions:
        undeclared = [c for c in q.competences if course is not None and c not in declared]
        if undeclared:
            out.append(Finding(quiz.source, q.line, f"question '{q.local_id}' is tagged {', '.join(undeclared)}, "
                                                    f"which course '{quiz.course_id}' does not declare"))
        if isinstance(q, ChoiceQuestion) and q.type is QuestionType.SINGLE \
                and len(q.choices) != SINGLE_CHOICE_OPTIONS:
            out.append(Finding(quiz.source, q.line, f"single-choice question '{q.local_id}' has {len(q.choices)} "
                                                    f"options; give it {SINGLE_CHOICE_OPTIONS}"))
        if quiz.kind == "final":
            copied = lesson_questions.get(_same(q.text_html))
            if copied:
                out.append(Finding(quiz.source, q.line, f"question '{q.local_id}' is copied word for word from "
                                                        f"{copied}; a final asks it in new words"))
    draw = quiz.settings.draw_count
    if quiz.kind == "final" and draw and len(quiz.questions) < POOL_FACTOR * draw:
        out.append(Finding(quiz.source, _draw_line(quiz.source),
                           f"final draws {draw} questions from a pool of {len(quiz.questions)}; "
                           f"the pool needs at least {POOL_FACTOR * draw}"))
    return out


def _draw_line(source: str) -> int:
    try:
        lines = Path(source).read_text(encoding="utf-8").splitlines()
    except OSError:
        return 1
    return next((n for n, line in enumerate(lines, start=1) if line.strip() == "[draw]"), 1)


def check_style(courses: list[CourseDoc], quizzes: list[QuizDoc], *, today: date) -> list[Finding]:
    """Every editorial problem of the given content, errors and warnings, sorted by file and line."""
    findings: list[Finding] = []
    for course in courses:
        for lesson in course.lessons:
            findings += _lesson_findings(lesson, today)
    by_course = {c.id: c for c in courses}
    lesson_questions: dict[str, dict[str, str]] = {}
    for quiz in quizzes:
        if quiz.kind != "final":
            for q in quiz.questions:
                lesson_questions.setdefault(quiz.course_id, {})[_same(q.text_html)] = f"{quiz.source}:{q.line}"
    for quiz in quizzes:
        findings += _quiz_findings(quiz, by_course.get(quiz.course_id), lesson_questions.get(quiz.course_id, {}))
    return sorted(findings)


def due_for_review(courses: list[CourseDoc], *, today: date, within_days: int = 30) -> list[LessonDoc]:
    """Lessons whose review date has passed or falls within ``within_days``, oldest first; lessons
    without a review date come first of all."""
    due = [le for c in courses for le in c.lessons
           if le.review_by is None or (le.review_by - today).days <= within_days]
    return sorted(due, key=lambda le: (le.review_by or date.min, le.id))


def figures_table(courses: list[CourseDoc], quizzes: list[QuizDoc]) -> str:
    """A Markdown table of words, pages and questions per course, for docs/content-format.md."""
    rows = ["| Course | Lessons | Words (shortest–longest lesson) | Pages (`## `) | Words per page (median) "
            "| Lesson-quiz questions | Final: pool / draw |", "|---|---|---|---|---|---|---|"]
    for course in courses:
        words = [len(_plain(le.markdown).split()) for le in course.lessons]
        pages = [w for le in course.lessons for _, _, w in page_word_counts(le.markdown)]
        mine = [q for q in quizzes if q.course_id == course.id]
        lesson_questions = sum(len(q.questions) for q in mine if q.kind != "final")
        final = next((q for q in mine if q.kind == "final"), None)
        pool = f"{len(final.questions)} / {final.settings.draw_count or len(final.questions)}" if final else "–"
        median = sorted(pages)[len(pages) // 2] if pages else 0
        rows.append(f"| {course.id} | {len(course.lessons)} | {sum(words)} ({min(words)}–{max(words)}) | {len(pages)} "
                    f"| {median} | {lesson_questions} | {pool} |")
    return "\n".join(rows)


if __name__ == "__main__":  # python -m lms.content.style [COURSES QUIZZES]: the figures table


    args = sys.argv[1:] or ["course_content", "quizzes"]
    print(figures_table(load_courses(Path(args[0])), check_quizzes(Path(args[1]))[0]))
