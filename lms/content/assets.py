"""Which file a course-asset URL may name: only a regular file inside that course's own
``assets/`` folder, wherever symbolic links point.

The course id must be a plain id (no ``..``, no separator), each part of the file name a plain
name (no ``..``, no hidden files, no backslash or control character), and the file's real path
(symbolic links followed) must still lie under the real path of ``<content>/<course>/assets``.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["asset_file"]

_COURSE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_PART = re.compile(r"^[^\x00-\x1f\x7f\\/:]{1,255}$")


def asset_file(content_root: Path, course_id: str, filename: str) -> Path | None:
    if not _COURSE_ID.match(course_id) or not filename or len(filename) > 1000:
        return None
    parts = filename.split("/")
    if any(not _PART.match(p) or p.startswith(".") for p in parts):
        return None
    folder = content_root / course_id / "assets"
    try:
        real_folder = folder.resolve(strict=True)
        real_file = folder.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, a loop of links, a name the system refuses
        return None
    if real_folder not in real_file.parents or not real_file.is_file():
        return None
    return real_file
