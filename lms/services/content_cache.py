"""Published content kept in memory once rendered, and how each process learns that it changed.

Lessons, courses and quizzes change only when content is synced, a lesson is published in the
browser or a quiz is imported or published, and each of those moves one of the columns the
fingerprint below reads (a count, a version sum, a latest ``updated_at``). A process keeps what
it rendered from published content (pages, API bodies) under the fingerprint it had then, and
reads the fingerprint again at most once per ``interval`` seconds, or at once after it changed
something itself (:meth:`ContentStamp.invalidate`). Other processes (the second gunicorn worker,
``lms content sync``, another app server) are therefore seen within ``interval`` seconds, and
no request pays a query for content that did not change.

Bound to one LMS instance (its sessionmaker), never to the process: the LMS may be mounted
into someone else's site beside another copy of itself."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.store import Course, Lesson, Quiz

__all__ = ["ContentStamp", "RenderedCache", "Stamp", "fingerprint"]

# What the catalogue looked like when something was rendered: counts, version sums, latest times.
Stamp = tuple[object, ...]


def fingerprint(session: Session) -> Stamp:
    """One round trip over the small catalogue tables; changes whenever published content does."""
    row = session.execute(select(
        select(func.count()).select_from(Course).where(Course.published).scalar_subquery(),
        select(func.max(Course.updated_at)).scalar_subquery(),
        select(func.count()).select_from(Lesson).where(Lesson.published).scalar_subquery(),
        select(func.coalesce(func.sum(Lesson.version), 0)).scalar_subquery(),
        select(func.max(Lesson.updated_at)).scalar_subquery(),
        select(func.max(Lesson.edited_at)).scalar_subquery(),
        select(func.count()).select_from(Quiz).where(Quiz.published).scalar_subquery(),
        select(func.max(Quiz.updated_at)).scalar_subquery(),
    )).one()
    return tuple(row)


class ContentStamp:
    """The current content fingerprint of one LMS, re-read at most every ``interval`` seconds."""

    def __init__(self, sessions: Callable[[], Session], interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sessions = sessions
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._value: Stamp | None = None
        self._read_at = float("-inf")

    def current(self, session: Session | None = None) -> Stamp:
        now = self._clock()
        value = self._value
        if value is not None and now - self._read_at < self.interval:
            return value
        if session is None:
            with self._sessions() as own:
                value = fingerprint(own)
        else:
            value = fingerprint(session)
        with self._lock:
            self._value, self._read_at = value, now
        return value

    def peek(self) -> tuple[Any, ...] | None:
        """The fingerprint when it needs no reading yet, else None (without touching the database)."""
        value = self._value
        if value is not None and self._clock() - self._read_at < self.interval:
            return value
        return None

    def invalidate(self) -> None:
        """Something was written here: read the fingerprint again before trusting a kept copy."""
        with self._lock:
            self._read_at = float("-inf")


class RenderedCache:
    """Rendered bodies keyed by what they depend on, each kept with the stamp it was made under;
    least recently used entries go first once ``size`` is reached (a province has some hundred
    lessons, times languages and text sizes)."""

    def __init__(self, size: int = 2048) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, tuple[Stamp, Any]] = OrderedDict()
        self._lock = threading.Lock()

    # The values are whatever the web layer renders (kept opaque here).
    def get(self, key: Hashable, stamp: Stamp) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] != stamp:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: Hashable, stamp: Stamp, value: Any) -> None:
        with self._lock:
            self._items[key] = (stamp, value)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
