"""Talking to a Learning Record Store: POST batches of xAPI statements, and a background loop
that keeps sending while the server runs (the embedded default has no Redis worker).

This layer knows HTTP, not the outbox: the caller hands it statements already serialised and
learns, per statement, whether the LRS has it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import requests

__all__ = ["Delivery", "Lrs", "SenderLoop"]

log = logging.getLogger("lms.xapi")


@dataclass
class Delivery:
    """What became of a batch: statements the LRS holds, statements it refused as invalid, and
    why sending stopped early (``error``: the LRS is down or refuses us; try again later)."""

    delivered: list[int] = field(default_factory=list)
    rejected: dict[int, str] = field(default_factory=dict)
    error: str | None = None


class Lrs:
    """One LRS endpoint (``…/xAPI/``) with HTTP Basic auth, over one kept-alive connection."""

    def __init__(self, endpoint: str, username: str, password: str, *, timeout: float = 60.0) -> None:
        self.url = endpoint.rstrip("/") + "/statements"
        self.timeout = timeout
        self._http = requests.Session()
        self._http.auth = (username, password) if username or password else None
        self._http.headers.update({"X-Experience-API-Version": "1.0.3",
                                   "Content-Type": "application/json; charset=utf-8"})

    def close(self) -> None:
        self._http.close()

    def post(self, bodies: Sequence[str]) -> tuple[int | None, str]:
        """POST the statements (each already JSON) as one array; (status or None, detail)."""
        data = ("[" + ",".join(bodies) + "]").encode("utf-8")
        try:
            answer = self._http.post(self.url, data=data, timeout=(10.0, self.timeout))
        except requests.RequestException as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        return answer.status_code, answer.text[:500]

    def deliver(self, rows: Sequence[tuple[int, str]]) -> Delivery:
        """Send (key, statement JSON) rows. 200/204: all stored. 409 (an id the LRS already has)
        or 400 / 422 / 413 (one bad statement, too big a batch): halve the batch until the culprit is
        alone, so one statement never holds back the others; alone, a 409 means the LRS already
        holds that id (our statements never change, so it is this one) and a 400 or 422 is a
        refusal.
        Anything else (no answer, 401, 5xx) stops here: nothing is marked, all is tried later."""
        out = Delivery()
        self._deliver(list(rows), out)
        return out

    def _deliver(self, rows: list[tuple[int, str]], out: Delivery) -> None:
        if not rows or out.error:
            return
        status, detail = self.post([body for _, body in rows])
        if status in (200, 204):
            out.delivered.extend(key for key, _ in rows)
        elif status in (400, 409, 413, 422) and len(rows) > 1:
            half = len(rows) // 2
            self._deliver(rows[:half], out)
            self._deliver(rows[half:], out)
        elif status == 409:
            out.delivered.append(rows[0][0])
        elif status in (400, 422):  # 422: ralph (FastAPI) says "invalid" so
            out.rejected[rows[0][0]] = detail or "400"
        else:
            out.error = f"{status or 'no answer'}: {detail}"[:500]


class SenderLoop:
    """A daemon thread that runs ``work`` when woken (after a transaction wrote statements) and
    every ``idle`` seconds anyway; ``work`` returns False when the LRS did not take everything,
    and the loop then waits longer each time (``first_wait`` doubling up to ``longest_wait``)."""

    def __init__(self, work: Callable[[], bool], *, idle: float = 30.0, first_wait: float = 2.0,
                 longest_wait: float = 300.0) -> None:
        self._work = work
        self._idle, self._first, self._longest = idle, first_wait, longest_wait
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lms-xapi-sender", daemon=True)

    def start(self) -> SenderLoop:
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        wait = 0.0
        while not self._stop.is_set():
            self._wake.clear()  # before the work: a statement written meanwhile wakes the next round
            try:
                ok = self._work()
            except Exception:  # a database hiccup must not end the loop; it tries again later
                log.exception("sending xAPI statements failed")
                ok = False
            wait = 0.0 if ok else min(self._longest, max(self._first, wait * 2))
            if ok:
                self._wake.wait(self._idle)
            else:
                self._stop.wait(wait)  # backing off: a new statement does not cut the wait short
