"""Load and check quiz files (``quizzes/*.toml``); see docs/content-format.md."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeGuard

from lms.content.competences import competences
from lms.content.problems import Problem, line_of_key
from lms.content.rendering import render_inline, render_markdown
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

__all__ = ["REVIEW_POLICIES", "QuizDoc", "QuizSettings", "check_quizzes", "quiz_settings_problems"]

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}$")
_QID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
REVIEW_POLICIES = ("none", "score", "correctness", "feedback")
KINDS = ("final", "lesson", "practice")


@dataclass(frozen=True)
class QuizSettings:
    pass_mark: float = 70.0
    time_limit_minutes: int = 0
    max_attempts: int = 0
    cooldown_minutes: int = 0
    attempt_window_hours: int = 0  # max_attempts counts attempts started in this many hours; 0: ever
    shuffle_questions: bool = True
    shuffle_choices: bool = True
    review: str = "feedback"
    draw_count: int | None = None
    draw_rules: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...] = ()  # (count, tags, competences)
    allow_negative: bool = False


@dataclass(frozen=True)
class QuizDoc:
    id: str
    course_id: str
    title: str
    kind: str
    lesson_id: str | None
    settings: QuizSettings
    questions: list[Question]
    source: str
    content_hash: str
    lines: dict[str, int] = field(default_factory=dict)  # key -> line, for cross-reference errors


def _toml_line(exc: tomllib.TOMLDecodeError) -> int:
    m = re.search(r"line (\d+)", str(exc))
    return int(m.group(1)) if m else 1


def _header_lines(text: str, header: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), start=1) if line.strip() == header]


def _num(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def quiz_settings_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, message) for every invalid setting in a quiz table."""
    out: list[tuple[str, str]] = []
    pm = data.get("pass_mark", 70)
    if not _num(pm) or not 0 <= pm <= 100:
        out.append(("pass_mark", "'pass_mark' must be a percentage from 0 to 100"))
    for key in ("time_limit_minutes", "max_attempts", "cooldown_minutes", "attempt_window_hours"):
        v = data.get(key, 0)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            out.append((key, f"'{key}' must be a whole number, 0 or more"))
    for key in ("shuffle_questions", "shuffle_choices", "allow_negative"):
        if not isinstance(data.get(key, True), bool):
            out.append((key, f"'{key}' must be true or false"))
    if data.get("review", "feedback") not in REVIEW_POLICIES:
        out.append(("review", "'review' must be one of: " + ", ".join(REVIEW_POLICIES)))
    return out


def _settings(data: dict[str, Any]) -> QuizSettings:
    draw: dict[str, Any] = data["draw"] if isinstance(data.get("draw"), dict) else {}
    rules = []
    for rule in draw.get("rules", []) if isinstance(draw.get("rules"), list) else []:
        if isinstance(rule, dict):
            rules.append((int(rule.get("count", 0)), tuple(map(str, rule.get("tags", []))),
                          tuple(map(str, rule.get("competences", [])))))
    count = draw.get("count")
    return QuizSettings(
        pass_mark=float(data.get("pass_mark", 70)), time_limit_minutes=int(data.get("time_limit_minutes", 0)),
        max_attempts=int(data.get("max_attempts", 0)), cooldown_minutes=int(data.get("cooldown_minutes", 0)),
        attempt_window_hours=int(data.get("attempt_window_hours", 0)),
        shuffle_questions=bool(data.get("shuffle_questions", True)),
        shuffle_choices=bool(data.get("shuffle_choices", True)), review=str(data.get("review", "feedback")),
        draw_count=int(count) if isinstance(count, int) else None, draw_rules=tuple(rules),
        allow_negative=bool(data.get("allow_negative", False)))


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _question(q: dict[str, Any], source: str, line: int, add: _Adder) -> Question | None:
    before = add.count
    qid = q.get("id")
    if not isinstance(qid, str) or not _QID.match(qid):
        add(line, "question 'id' must be letters, digits, '-' or '_' (at most 40)")
        qid = "?"
    if q.get("type") not in tuple(QuestionType):
        add(line, f"question '{qid}': 'type' must be one of: {', '.join(QuestionType)}")
        return None
    qtype = QuestionType(q["type"])
    text = _text(q.get("text"))
    if not text:
        add(line, f"question '{qid}' has no 'text'")
    codes = q.get("competences")
    if not isinstance(codes, list) or not codes:
        add(line, f"question '{qid}' needs 'competences' (at least one code)")
        codes = []
    for code in codes:
        if str(code) not in competences():
            add(line, f"question '{qid}': unknown competence code '{code}'")
    points = q.get("points", 1)
    if not _num(points) or points <= 0:
        add(line, f"question '{qid}': 'points' must be a positive number")
        points = 1
    tags = q.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        add(line, f"question '{qid}': 'tags' must be a list of strings")
        tags = []
    question: Question
    if qtype in (QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.ORDERING):
        raw = q.get("choices") if qtype is not QuestionType.ORDERING else q.get("items")
        if not isinstance(raw, list) or len(raw) < 2:
            what = "'items'" if qtype is QuestionType.ORDERING else "'choices'"
            add(line, f"question '{qid}' needs at least 2 {what}")
            raw = []
        if qtype is QuestionType.ORDERING:
            if not all(isinstance(i, str) and i.strip() for i in raw):
                add(line, f"question '{qid}': 'items' must be non-empty strings in the correct order")
            question = ChoiceQuestion(type=qtype, choices=tuple(Choice(render_inline(str(i))) for i in raw))
        else:
            correct = [c for c in raw if isinstance(c, dict) and c.get("correct") is True]
            explicit = any(isinstance(c, dict) and "fraction" in c for c in raw)
            wrong_count = len(raw) - len(correct)
            choices = []
            for c in raw:
                if not isinstance(c, dict) or not _text(c.get("text")):
                    add(line, f"question '{qid}': every choice needs a 'text'")
                    continue
                if explicit:
                    frac = c.get("fraction", 0)
                    if not _num(frac) or not -1 <= frac <= 1:
                        add(line, f"question '{qid}': 'fraction' must be between -1 and 1")
                        frac = 0
                elif c.get("correct") is True:
                    frac = 1.0 if qtype is QuestionType.SINGLE else 1.0 / len(correct)
                else:
                    frac = 0.0 if qtype is QuestionType.SINGLE else -1.0 / max(1, wrong_count)
                choices.append(Choice(render_inline(c["text"]), float(frac),
                                         render_inline(_text(c.get("feedback")))))
            if qtype is QuestionType.SINGLE and not explicit and len(correct) != 1:
                add(line, f"question '{qid}': a single-choice question needs exactly one correct choice "
                          f"(found {len(correct)})")
            if qtype is QuestionType.MULTIPLE and not explicit and not correct:
                add(line, f"question '{qid}': a multiple-choice question needs at least one correct choice")
            scoring = q.get("scoring", "partial")
            if scoring not in ("partial", "all_or_nothing"):
                add(line, f"question '{qid}': 'scoring' must be \"partial\" or \"all_or_nothing\"")
            question = ChoiceQuestion(type=qtype, choices=tuple(choices), scoring=str(scoring))
    elif qtype == "true_false":
        if not isinstance(q.get("answer"), bool):
            add(line, f"question '{qid}': a true/false question needs 'answer = true' or 'answer = false'")
        question = TrueFalseQuestion(answer=q.get("answer") is True,
                                     feedback_true_html=render_inline(_text(q.get("feedback_true"))),
                                     feedback_false_html=render_inline(_text(q.get("feedback_false"))))
    elif qtype == "short_answer":
        answers = q.get("answers")
        if not isinstance(answers, list) or not answers or not all(isinstance(a, str) and a.strip() for a in answers):
            add(line, f"question '{qid}': 'answers' must be a non-empty list of accepted answers")
            answers = []
        for key in ("case_sensitive", "accept_without_diacritics"):
            if not isinstance(q.get(key, False), bool):
                add(line, f"question '{qid}': '{key}' must be true or false")
        question = ShortAnswerQuestion(answers=tuple(ShortAnswer(a.strip()) for a in answers),
                                       case_sensitive=q.get("case_sensitive") is True,
                                       accept_without_diacritics=q.get("accept_without_diacritics") is True)
    elif qtype == "numeric":
        answer, tolerance = q.get("answer"), q.get("tolerance", 0)
        if not _num(answer):
            add(line, f"question '{qid}': a numeric question needs a number 'answer'")
        if not _num(tolerance) or tolerance < 0:
            add(line, f"question '{qid}': 'tolerance' must be a number, 0 or more")
        if not _num(answer) or not _num(tolerance) or add.count > before:
            return None
        question = NumericQuestion(numbers=(NumericAnswer(float(answer), float(tolerance)),))
    else:
        pairs = q.get("pairs")
        ok = isinstance(pairs, list) and all(isinstance(p, dict) and _text(p.get("right")) for p in pairs)
        real = [p for p in pairs or [] if isinstance(p, dict) and _text(p.get("left"))] if ok else []
        if not ok or len(real) < 2:
            add(line, f"question '{qid}': a matching question needs at least 2 'pairs' with 'left' and 'right'")
            pairs = []
        question = MatchingQuestion(pairs=tuple(Pair(render_inline(_text(p.get("left"))),
                                                     render_inline(_text(p["right"]))) for p in pairs or []))
    if add.count > before:
        return None
    return replace(question, local_id=str(qid), text_html=render_markdown(text), source=source, line=line,
                   points=float(points), feedback_html=render_inline(_text(q.get("feedback"))),
                   competences=tuple(str(c) for c in codes), tags=tuple(tags))


class _Adder:
    def __init__(self, problems: list[Problem], path: str) -> None:
        self.problems, self.path, self.count = problems, path, 0

    def __call__(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))
        self.count += 1


def _load_quiz(path: Path, problems: list[Problem]) -> QuizDoc | None:
    source = str(path)
    add = _Adder(problems, source)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        add(path.read_bytes()[: exc.start].count(b"\n") + 1, "file is not valid UTF-8")
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        add(_toml_line(exc), f"invalid TOML: {exc}")
        return None
    quiz_id = data.get("id")
    if not isinstance(quiz_id, str) or not _ID.match(quiz_id):
        add(line_of_key(text, "id"), "'id' must be a quiz id of a-z, 0-9 and '-'")
        quiz_id = ""
    for key in ("course", "title"):
        if not _text(data.get(key)):
            add(line_of_key(text, key), f"'{key}' must be a non-empty string")
    kind = data.get("kind", "practice")
    if kind not in KINDS:
        add(line_of_key(text, "kind"), "'kind' must be one of: " + ", ".join(KINDS))
    lesson = data.get("lesson")
    if kind == "lesson" and not _text(lesson):
        add(line_of_key(text, "kind"), "a quiz of kind \"lesson\" needs 'lesson' (the lesson it follows)")
    for key, message in quiz_settings_problems(data):
        add(line_of_key(text, key), message)
    raw_questions = data.get("questions")
    headers = _header_lines(text, "[[questions]]")
    questions: list[Question] = []
    if not isinstance(raw_questions, list) or not raw_questions:
        add(1, "a quiz needs at least one [[questions]]")
        raw_questions = []
    seen: dict[str, int] = {}
    for index, q in enumerate(raw_questions):
        line = headers[index] if index < len(headers) else 1
        if not isinstance(q, dict):
            add(line, "each [[questions]] entry must be a table")
            continue
        doc = _question(q, source, line, add)
        if doc is None:
            continue
        if doc.local_id in seen:
            add(line, f"duplicate question id '{doc.local_id}' (first on line {seen[doc.local_id]})")
            continue
        seen[doc.local_id] = line
        questions.append(doc)
    draw = data.get("draw")
    if draw is not None:
        if not isinstance(draw, dict):
            add(line_of_key(text, "draw"), "'draw' must be a table")
        else:
            count = draw.get("count")
            if count is not None and (not isinstance(count, int) or count < 1 or count > len(raw_questions)):
                add(_header_lines(text, "[draw]")[0] if _header_lines(text, "[draw]") else 1,
                    f"'draw.count' must be between 1 and the number of questions ({len(raw_questions)})")
    _attempt_policy_problems(data, kind, len(raw_questions), text, add)
    if add.count:
        return None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return QuizDoc(id=str(quiz_id), course_id=_text(data.get("course")), title=_text(data.get("title")),
                   kind=str(kind), lesson_id=_text(lesson) or None, settings=_settings(data), questions=questions,
                   source=source, content_hash=digest,
                   lines={"course": line_of_key(text, "course"), "lesson": line_of_key(text, "lesson"),
                          "id": line_of_key(text, "id")})


def _attempt_policy_problems(data: dict[str, Any], kind: object, questions: int, text: str, add: _Adder) -> None:
    """A final measures only when it draws from a larger pool and caps attempts in a window;
    limits on any other quiz would be silently ignored (practice is unlimited), so say so."""
    limits = [k for k in ("max_attempts", "cooldown_minutes", "attempt_window_hours") if data.get(k, 0)]
    if kind != "final":
        for key in limits:
            add(line_of_key(text, key), f"'{key}' applies to a course's final only: practice and lesson quizzes "
                                        "are unlimited (remove it or set it to 0)")
        return
    draw = data.get("draw") if isinstance(data.get("draw"), dict) else {}
    count = draw.get("count") if isinstance(draw, dict) else None
    if not isinstance(count, int) or count >= questions:
        add(line_of_key(text, "kind"), f"a final must draw fewer questions than its pool: set [draw] count below "
                                       f"the number of questions ({questions})")
    if not isinstance(data.get("max_attempts"), int) or isinstance(data.get("max_attempts"), bool) \
            or data.get("max_attempts", 0) < 1:
        add(line_of_key(text, "max_attempts"), "a final needs 'max_attempts' (1 or more) with "
                                               "'attempt_window_hours' (see docs/content-format.md)")


def check_quizzes(root: Path) -> tuple[list[QuizDoc], list[Problem]]:
    problems: list[Problem] = []
    quizzes: list[QuizDoc] = []
    seen: dict[str, str] = {}
    files = [root] if root.is_file() else sorted(root.glob("*.toml")) if root.is_dir() else []
    for path in files:
        quiz = _load_quiz(path, problems)
        if quiz is None:
            continue
        if quiz.id in seen:
            message = f"duplicate quiz id '{quiz.id}' (also in {seen[quiz.id]})"
            problems.append(Problem(str(path), quiz.lines["id"], message))
            continue
        seen[quiz.id] = str(path)
        quizzes.append(quiz)
    return quizzes, sorted(problems)
