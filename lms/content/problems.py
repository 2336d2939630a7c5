"""A problem in a content file, reported as ``FILE:LINE: message``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ContentError", "Problem", "line_of_key"]


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        # One problem, one line: a message that quotes the file (or a parser's own text) may hold
        # a line break, which would print a second line naming no location.
        message = " ".join(self.message.splitlines())
        return f"{self.file}:{self.line}: {message}"


class ContentError(Exception):
    """Raised when content cannot be loaded; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def line_of_key(text: str, key: str, *, start: int = 1, separator: str = "=") -> int:
    """The 1-based line where ``key`` is assigned (TOML ``key =`` or YAML ``key:``), else ``start``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number < start:
            continue
        stripped = line.strip()
        if stripped.startswith(key) and stripped[len(key):].lstrip().startswith(separator):
            return number
    return start


def display(path: Path) -> str:
    return str(path)
