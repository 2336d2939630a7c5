"""Reads course_content/ and quizzes/ into plain objects, validates them with errors that name
file and line, and renders Markdown to sanitised HTML (once, at sync time)."""

from lms.content.courses import CourseDoc, LessonDoc, load_courses
from lms.content.problems import ContentError, Problem
from lms.content.rendering import render_markdown, sanitise_html

__all__ = [
    "ContentError",
    "CourseDoc",
    "LessonDoc",
    "Problem",
    "load_courses",
    "render_markdown",
    "sanitise_html",
]
