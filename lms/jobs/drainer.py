"""An outbox drainer for the embedded default: one daemon thread per process that runs a step
(send what is due), sleeps as long as the step says, and wakes early when told new work was
committed. The outbox rows themselves live in the database and are claimed row by row, so any
number of processes may drain the same outbox."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["Drainer"]

log = logging.getLogger("lms.jobs")


class Drainer:
    def __init__(self, name: str, step: Callable[[], float], *, idle: float = 5.0) -> None:
        """``step`` does one round and returns the seconds until it wants to run again."""
        self.name, self._step, self._idle = name, step, idle
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=f"lms-{self.name}", daemon=True)
                self._thread.start()

    def wake(self) -> None:
        self.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            try:
                pause = self._step()
            except Exception:  # a database hiccup: try again after the idle pause
                log.exception("%s: a round failed", self.name)
                pause = self._idle
            self._wake.wait(timeout=max(0.2, min(pause, self._idle)))
            self._wake.clear()
