"""Load and check course folders: ``course.toml`` plus ``NN-slug.md`` lessons."""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from lms.content.competences import competences
from lms.content.problems import ContentError, Problem, line_of_key
from lms.content.rendering import render_markdown

__all__ = [
    "BodyProblem",
    "CourseDoc",
    "LessonDoc",
    "ReviewDate",
    "SourceDoc",
    "check_courses",
    "check_lesson_body",
    "load_courses",
    "render_lesson",
    "review_dates",
]

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_AUDIENCES = {"citizen", "official"}
_VALIDITIES = {"none", "training_year"}
_IMAGE_TYPES = {".svg", ".png", ".jpg", ".jpeg", ".webp"}
# A lesson listed in course.toml is a file of the course folder: no folders, no hidden files, no
# control characters, and short enough for every file system.
_LESSON_NAME = re.compile(r"[^\x00-\x1f\x7f/\\.][^\x00-\x1f\x7f/\\]{0,119}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_MINUTES = 100_000  # far above any lesson or course; keeps the figure inside a database integer
MAX_IMAGE_BYTES = 100_000


@dataclass(frozen=True)
class SourceDoc:
    """Where a lesson's facts come from (a law, a decree, an official page) and when they were
    last compared with it."""

    title: str
    checked: date
    url: str = ""


@dataclass(frozen=True)
class LessonDoc:
    id: str
    course_id: str
    position: int
    title: str
    title_en: str
    competences: list[str]
    minutes: int
    markdown: str
    html: str
    source: str
    content_hash: str
    path: str = ""
    body_line: int = 1  # line of the file where the Markdown body starts
    sources: tuple[SourceDoc, ...] = ()
    review_by: date | None = None


@dataclass(frozen=True)
class CourseDoc:
    id: str
    title: str
    title_en: str
    summary: str
    summary_en: str
    audience: list[str]
    competences: list[str]
    version: str
    sequential: bool
    minutes: int
    mandated: bool
    certificate_validity: str
    final_quiz: str | None
    path: Path
    lessons: list[LessonDoc] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        h = hashlib.sha256()
        for part in (self.title, self.title_en, self.summary, self.summary_en, self.version,
                     ",".join(self.audience), ",".join(self.competences), str(self.sequential),
                     str(self.minutes), str(self.mandated), self.certificate_validity, self.final_quiz or ""):
            h.update(part.encode("utf-8") + b"\0")
        for lesson in self.lessons:
            h.update(lesson.content_hash.encode("ascii"))
        return h.hexdigest()


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(str(path), line, message))


def _toml_error_line(exc: tomllib.TOMLDecodeError) -> int:
    m = re.search(r"line (\d+)", str(exc))
    return int(m.group(1)) if m else 1


def _codes(value: object) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        return None
    return [str(v) for v in value]


def _check_text(out: _Collector, path: Path, text: str) -> None:
    if not unicodedata.is_normalized("NFC", text):
        for number, line in enumerate(text.splitlines(), start=1):
            if not unicodedata.is_normalized("NFC", line):
                out.add(path, number, "text is not in Unicode NFC (Vietnamese letters typed in decomposed form)")
                break


def _read(out: _Collector, path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        out.add(path, line, "file is not valid UTF-8")
    except OSError as exc:
        out.add(path, 1, f"cannot read file: {exc.strerror}")
    return None


def _load_course(out: _Collector, folder: Path, seen_lessons: dict[str, Problem]) -> CourseDoc | None:
    path = folder / "course.toml"
    text = _read(out, path)
    if text is None:
        return None
    _check_text(out, path, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        out.add(path, _toml_error_line(exc), f"invalid TOML: {exc}")
        return None
    except RecursionError:  # tomllib recurses once per level of nested arrays and tables
        out.add(path, 1, "invalid TOML: arrays or tables nested too deeply")
        return None
    before = len(out.problems)

    def need_str(key: str, *, required: bool = True) -> str:
        value = data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            out.add(path, line_of_key(text, key), f"'{key}' must be a non-empty string")
            return ""
        return value.strip()

    course_id = need_str("id")
    if course_id and not _ID.match(course_id):
        out.add(path, line_of_key(text, "id"), f"course id '{course_id}' may hold only a-z, 0-9 and '-'")
    title, title_en = need_str("title"), need_str("title_en")
    summary, summary_en = need_str("summary"), need_str("summary_en")
    version = need_str("version")
    audience = data.get("audience")
    if (not isinstance(audience, list) or not audience or not all(isinstance(a, str) for a in audience)
            or not set(audience) <= _AUDIENCES):
        out.add(path, line_of_key(text, "audience"), "'audience' must be a list of: citizen, official")
        audience = []
    codes = _codes(data.get("competences"))
    if not codes:
        out.add(path, line_of_key(text, "competences"), "'competences' must be a non-empty list of codes")
        codes = []
    for code in codes:
        if code not in competences():
            out.add(path, line_of_key(text, "competences"), f"unknown competence code '{code}'")
    sequential = data.get("sequential", False)
    mandated = data.get("mandated", False)
    for key, value in (("sequential", sequential), ("mandated", mandated)):
        if not isinstance(value, bool):
            out.add(path, line_of_key(text, key), f"'{key}' must be true or false")
    minutes = data.get("minutes", 0)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 <= minutes <= MAX_MINUTES:
        out.add(path, line_of_key(text, "minutes"), f"'minutes' must be a whole number of minutes, "
                                                    f"0 to {MAX_MINUTES}")
        minutes = 0
    validity = data.get("certificate_validity", "none")
    if not isinstance(validity, str) or validity not in _VALIDITIES:
        out.add(path, line_of_key(text, "certificate_validity"),
                "'certificate_validity' must be \"none\" or \"training_year\"")
    final_quiz = data.get("final_quiz")
    if final_quiz is not None and not isinstance(final_quiz, str):
        out.add(path, line_of_key(text, "final_quiz"), "'final_quiz' must be a quiz id")
        final_quiz = None
    stems = data.get("lessons")
    if not isinstance(stems, list) or not stems or not all(isinstance(s, str) for s in stems):
        out.add(path, line_of_key(text, "lessons"), "'lessons' must be a non-empty list of lesson file names")
        stems = []
    known = set(data)
    for key in sorted(known - {"id", "title", "title_en", "summary", "summary_en", "audience", "competences",
                               "version", "sequential", "minutes", "mandated", "certificate_validity",
                               "final_quiz", "lessons"}):
        out.add(path, line_of_key(text, key), f"unknown key '{key}'")
    lessons: list[LessonDoc] = []
    listed: set[str] = set()
    for position, stem in enumerate(stems, start=1):
        stem_clean = stem.removesuffix(".md")
        if stem_clean in listed:
            out.add(path, line_of_key(text, "lessons"), f"lesson '{stem_clean}' is listed twice")
            continue
        listed.add(stem_clean)
        if not _LESSON_NAME.fullmatch(stem_clean):
            shown = _CONTROL.sub("?", stem_clean)[:60]
            out.add(path, line_of_key(text, "lessons"), f"lesson '{shown}' must be the name of a file in the course "
                                                        "folder (no '/', '\\', leading '.' or control characters; "
                                                        "at most 120 characters)")
            continue
        lesson_path = folder / f"{stem_clean}.md"
        if not lesson_path.is_file():
            out.add(path, line_of_key(text, "lessons"), f"lesson file '{stem_clean}.md' does not exist")
            continue
        lesson = _load_lesson(out, lesson_path, course_id, position, seen_lessons)
        if lesson is not None:
            lessons.append(lesson)
    for md in sorted(folder.glob("*.md")):
        if md.stem not in listed and md.name.lower() != "readme.md":
            out.add(md, 1, f"lesson file is not listed in {path.name} 'lessons'")
    if len(out.problems) > before:
        return None
    return CourseDoc(id=course_id, title=title, title_en=title_en, summary=summary, summary_en=summary_en,
                     audience=list(audience), competences=codes, version=version, sequential=bool(sequential),
                     minutes=int(minutes), mandated=bool(mandated), certificate_validity=str(validity),
                     final_quiz=final_quiz, path=folder, lessons=lessons)


def _front_matter(out: _Collector, path: Path, text: str) -> tuple[dict[str, Any], str, int] | None:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        out.add(path, 1, "lesson must start with front matter: a line '---', YAML keys, and a closing '---'")
        return None
    close = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if close is None:
        out.add(path, 1, "front matter opened on line 1 is never closed with a '---' line")
        return None
    raw = "\n".join(lines[1:close])
    try:
        data = yaml.safe_load(raw) if raw.strip() else {}
    except RecursionError:  # PyYAML recurses once per level of nested lists and mappings
        out.add(path, 2, "invalid front matter: lists or mappings nested too deeply")
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + 2) if mark is not None else 2
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        out.add(path, line, f"invalid front matter: {problem}")
        return None
    if not isinstance(data, dict):
        out.add(path, 2, "front matter must be YAML keys and values (key: value)")
        return None
    return data, "\n".join(lines[close + 1:]), close + 2


def _load_lesson(out: _Collector, path: Path, course_id: str, position: int,
                 seen: dict[str, Problem]) -> LessonDoc | None:
    text = _read(out, path)
    if text is None:
        return None
    _check_text(out, path, text)
    parsed = _front_matter(out, path, text)
    if parsed is None:
        return None
    meta, body, body_line = parsed
    before = len(out.problems)

    def key_line(key: str) -> int:
        return line_of_key(text, key, start=2, separator=":")

    lesson_id = meta.get("id")
    if not isinstance(lesson_id, str) or not _ID.match(lesson_id):
        out.add(path, key_line("id"), "'id' must be a lesson id of a-z, 0-9 and '-'")
        lesson_id = ""
    elif lesson_id in seen:
        first = seen[lesson_id]
        out.add(path, key_line("id"), f"duplicate lesson id '{lesson_id}' (also in {first.file}:{first.line})")
    else:
        seen[lesson_id] = Problem(str(path), key_line("id"), "")
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        out.add(path, key_line("title"), "'title' must be a non-empty string")
        title = ""
    title_en = meta.get("title_en", "")
    if not isinstance(title_en, str):
        out.add(path, key_line("title_en"), "'title_en' must be a string")
        title_en = ""
    codes = _codes(meta.get("competences"))
    if not codes:
        out.add(path, key_line("competences"), "'competences' must be a non-empty list of competence codes")
        codes = []
    for code in codes:
        if code not in competences():
            out.add(path, key_line("competences"), f"unknown competence code '{code}'")
    minutes = meta.get("minutes", 0)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 <= minutes <= MAX_MINUTES:
        out.add(path, key_line("minutes"), f"'minutes' must be a whole number, 0 to {MAX_MINUTES}")
        minutes = 0
    sources = _sources(out, path, meta.get("sources"), key_line("sources"))
    review_by = meta.get("review_by")
    if review_by is not None and (not isinstance(review_by, date) or isinstance(review_by, datetime)):
        out.add(path, key_line("review_by"), "'review_by' must be a date written YYYY-MM-DD")
        review_by = None
    # YAML keys may be numbers, dates or null: sort them as text.
    for key in sorted(set(meta) - {"id", "title", "title_en", "competences", "minutes", "sources", "review_by"},
                      key=str):
        out.add(path, key_line(str(key)), f"unknown front matter key '{key}'")
    for problem in check_lesson_body(body, path.parent):
        out.add(path, body_line - 1 + problem.line, problem.message)
    if len(out.problems) > before:
        return None
    html = render_lesson(body, course_id, folder=path.parent)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return LessonDoc(id=str(lesson_id), course_id=course_id, position=position, title=str(title).strip(),
                     title_en=str(title_en).strip(), competences=codes, minutes=int(minutes), markdown=body,
                     html=html, source=path.name, content_hash=digest, path=str(path), body_line=body_line,
                     sources=sources, review_by=review_by)


def _sources(out: _Collector, path: Path, value: object, line: int) -> tuple[SourceDoc, ...]:
    """``sources``: a list of mappings with ``title``, ``checked`` (a date) and an optional https ``url``."""
    if value is None:
        return ()
    if not isinstance(value, list):
        out.add(path, line, "'sources' must be a list of {title, url, checked}")
        return ()
    found: list[SourceDoc] = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            out.add(path, line, f"source {number} must be keys title, url and checked")
            continue
        title, url, checked = item.get("title"), item.get("url", ""), item.get("checked")
        if not isinstance(title, str) or not title.strip():
            out.add(path, line, f"source {number} needs a 'title' (the law, decree or page)")
            continue
        if not isinstance(url, str) or (url and not url.startswith("https://")):
            out.add(path, line, f"source {number}: 'url' must be an https:// address")
            continue
        if not isinstance(checked, date) or isinstance(checked, datetime):
            out.add(path, line, f"source {number} needs 'checked': the date it was last read, YYYY-MM-DD")
            continue
        for key in sorted(set(item) - {"title", "url", "checked"}, key=str):
            out.add(path, line, f"source {number}: unknown key '{key}'")
        found.append(SourceDoc(title=title.strip(), checked=checked, url=url))
    return tuple(found)


@dataclass(frozen=True)
class BodyProblem:
    """A problem in a lesson's Markdown body. ``line`` counts from the body's first line;
    ``key`` and ``subject`` let a page word it in the reader's language."""

    line: int
    key: str
    message: str
    subject: str = ""


def check_lesson_body(body: str, folder: Path) -> list[BodyProblem]:
    """The checks a lesson's Markdown must pass, wherever it was written (file or browser).
    ``folder`` is the course folder that holds ``assets/``."""
    problems: list[BodyProblem] = []
    if not body.strip():
        problems.append(BodyProblem(1, "body.empty", "lesson has no text after its front matter"))
    for number, line in enumerate(body.split("\n"), start=1):
        for m in _IMAGE.finditer(line):
            src = m.group("src")
            if not m.group("alt").strip():
                problems.append(BodyProblem(number, "image.no_alt", f"image '{src}' has no alt text", src))
            if src.startswith(("http://", "https://", "//", "data:")):
                problems.append(BodyProblem(number, "image.remote",
                                            f"image '{src}' must be a file in the course's assets/ folder", src))
                continue
            if _CONTROL.search(src):  # a NUL cannot even be looked up on disk
                shown = _CONTROL.sub("?", src)
                problems.append(BodyProblem(number, "image.outside_assets",
                                            f"image '{shown}' is not a valid file name under assets/", shown))
                continue
            asset = (folder / src).resolve()
            assets = (folder / "assets").resolve()
            if not src.startswith("assets/") or assets not in asset.parents:
                problems.append(BodyProblem(number, "image.outside_assets", f"image '{src}' must be under assets/",
                                            src))
            elif not _is_file(asset):
                problems.append(BodyProblem(number, "image.missing", f"missing image '{src}'", src))
            elif asset.suffix.lower() not in _IMAGE_TYPES:
                problems.append(BodyProblem(number, "image.type", f"image '{src}' must be SVG, PNG, JPEG or WebP",
                                            src))
            elif asset.stat().st_size > MAX_IMAGE_BYTES:
                problems.append(BodyProblem(number, "image.too_large",
                                            f"image '{src}' is {asset.stat().st_size} bytes; at most "
                                            f"{MAX_IMAGE_BYTES} for slow connections", src))
    return problems


def _is_file(path: Path) -> bool:
    """Whether ``path`` is a file; a name the file system refuses (too long) is no file either."""
    try:
        return path.is_file()
    except OSError:  # ENAMETOOLONG: pathlib only treats "does not exist"-like errors as False
        return False


def render_lesson(body: str, course_id: str, *, asset_base: str | None = None, folder: Path | None = None) -> str:
    """Sanitised HTML of a lesson body. Stored HTML points images at ``../courses/<id>/assets``
    (relative to ``/lessons/<id>``); a preview shown elsewhere passes its own ``asset_base``.
    ``folder`` is the course folder: images come only from its ``assets/`` and get their size."""
    return render_markdown(body, asset_base=asset_base or f"../courses/{course_id}/assets", lesson=True,
                           asset_folder=folder)


def _course_folders(root: Path) -> list[Path]:
    if (root / "course.toml").is_file():
        return [root]
    return sorted(p.parent for p in root.glob("*/course.toml"))


def check_courses(root: Path) -> tuple[list[CourseDoc], list[Problem]]:
    out = _Collector()
    courses: list[CourseDoc] = []
    seen_lessons: dict[str, Problem] = {}
    seen_courses: dict[str, Path] = {}
    for folder in _course_folders(root):
        course = _load_course(out, folder, seen_lessons)
        if course is None:
            continue
        if course.id in seen_courses:
            text = (folder / "course.toml").read_text(encoding="utf-8")
            out.add(folder / "course.toml", line_of_key(text, "id"),
                    f"duplicate course id '{course.id}' (also in {seen_courses[course.id]})")
            continue
        seen_courses[course.id] = folder / "course.toml"
        courses.append(course)
    return courses, sorted(out.problems)


def load_courses(root: Path) -> list[CourseDoc]:
    courses, problems = check_courses(root)
    if problems:
        raise ContentError(problems)
    return courses


@dataclass(frozen=True)
class ReviewDate:
    lesson_id: str
    title: str
    course_id: str
    review_by: date | None


def review_dates(root: Path) -> list[ReviewDate]:
    """Every lesson's ``review_by`` date, read from the front matter only (nothing rendered), so a
    page can list the lessons due for review cheaply. Unreadable files are skipped: ``lms content
    check`` is where they are reported."""
    found: list[ReviewDate] = []
    for folder in _course_folders(root):
        for md in sorted(folder.glob("*.md")):
            try:
                parsed = _front_matter(_Collector(), md, md.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                continue
            if parsed is None:
                continue
            meta = parsed[0]
            lesson_id, title, when = meta.get("id"), meta.get("title"), meta.get("review_by")
            if not isinstance(lesson_id, str) or not isinstance(title, str):
                continue
            valid = isinstance(when, date) and not isinstance(when, datetime)
            found.append(ReviewDate(lesson_id, title.strip(), folder.name, when if valid else None))
    return found
