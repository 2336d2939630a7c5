"""The deadline burst: many learners start, autosave and submit the same quiz at once against
gunicorn, then the database is compared with what every client was told.

Set-up, in a fresh database (PostgreSQL by default, or SQLite in a temporary directory):
`lms db upgrade`, `lms content sync`, `lms quiz import` of a GIFT file whose answer key (by
visible text) the clients use, and N learner accounts with API tokens made in one transaction
(one scrypt hash shared by all: hashing 2,000 passwords would take minutes and nobody logs in).

Burst: gunicorn serves `lms.wsgi:app` on a free loopback port (4 workers on PostgreSQL, 2 on
SQLite); a pool of client threads plays the learners. Each starts an attempt, autosaves every
answer (some change their mind, some save twice, some end with a wrong answer on purpose), and
submits once, twice in a row, or twice at the same moment. Clients retry connection errors and
5xx answers as a browser's autosave would; an answer counts as acknowledged only when a 2xx came
back. `--kill-worker` sends SIGKILL to one gunicorn worker (a child of the master, found in
/proc) while the burst runs.

Check: every acknowledged answer is stored with the acknowledged value (or a value the client
sent after it without hearing back), every submitted attempt is graded exactly once (one
"attempt.grade" audit event) with the score the client was told, no duplicate rows, no 5xx, no
"database is locked".

Baseline: a bare Flask hello endpoint (bench/hello_app.py) under the same gunicorn settings, hit
by the same client pool with about the same number of requests, just before and just after the
burst (the machine's load average is printed too: other work on it moves every figure).

Run: .venv/bin/python bench/burst.py [--db postgres|sqlite] [--learners 2000] [--kill-worker]
tests/web/test_burst.py runs the same machinery with 40 learners.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SHARED_ACCEPT = Path(os.environ.get("LMS_SHARED_DIR") or ROOT.parent / "shared") / "accept"

__all__ = ["BurstConfig", "BurstReport", "run_burst"]


# ------------------------------------------------------------------ configuration
@dataclass
class BurstConfig:
    kind: str = "postgres"  # or "sqlite"
    learners: int = 2000
    workers: int | None = None  # default: 4 on PostgreSQL, 2 on SQLite
    concurrency: int = 64  # client threads
    kill_workers: int = 0  # gunicorn workers to SIGKILL during the burst
    duration: float | None = 900.0  # cap on the burst, in seconds; None: bounded by retries only
    tries: int = 40  # per request, counting the first
    request_timeout: float = 30.0
    quiz_file: Path = SHARED_ACCEPT / "sample_quiz.gift"
    key_file: Path = SHARED_ACCEPT / "sample_quiz.key.json"
    course_id: str = "tri-tue-nhan-tao"
    seed: int = 2026
    baseline: bool = True
    workdir: Path | None = None  # default: a temporary directory, removed afterwards
    log: Callable[[str], None] = lambda _msg: None

    @property
    def worker_count(self) -> int:
        return self.workers or (4 if self.kind == "postgres" else 2)


# ------------------------------------------------------------------ databases and set-up
@contextlib.contextmanager
def fresh_database(kind: str, workdir: Path) -> Iterator[str]:
    """The SQLAlchemy URL of a new, empty database, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'burst.db'}"
        return
    from tests.databases import fresh_database as made_by_tests  # the same fresh PostgreSQL database

    with made_by_tests(kind) as url:
        yield url


def lms_environment(url: str, workdir: Path) -> dict[str, str]:
    """The environment of the `lms` commands and the server: this database, a private instance
    directory, and none of the caller's other LMS_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(LMS_DATABASE_URL=url, LMS_SECRET_KEY=secrets.token_hex(32),
               LMS_INSTANCE_PATH=str(workdir / "instance"), LMS_ENV="development")
    return env


def _lms(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "lms"), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"lms {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def prepare(url: str, env: dict[str, str], cfg: BurstConfig) -> tuple[str, list[tuple[int, str]]]:
    """Migrate, load content, import the quiz; returns its id and (user id, token) per learner."""
    cfg.log("lms db upgrade")
    _lms(env, "db", "upgrade")
    cfg.log("lms content sync")
    _lms(env, "content", "sync")
    out = _lms(env, "quiz", "import", str(cfg.quiz_file), "--course", cfg.course_id)
    quiz_id = str(json.loads(out.strip().splitlines()[-1])["quiz_id"])
    cfg.log(f"quiz {quiz_id} imported; creating {cfg.learners} learners")
    return quiz_id, create_learners(url, cfg.learners)


def create_learners(url: str, n: int) -> list[tuple[int, str]]:
    from sqlalchemy import select

    from lms.services import accounts
    from lms.store import LmsSession, Unit, User, make_engine

    engine = make_engine(url)
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:6]
    try:
        with LmsSession(engine) as s, s.begin():
            unit = s.scalar(select(Unit.code).order_by(Unit.code).limit(1))
            shared_hash = accounts.hash_password(secrets.token_urlsafe(16))
            users = [User(login=f"burst-{tag}-{i:05d}@bench.invalid", full_name=f"Học viên {i}",
                          password_hash=shared_hash, role="citizen", birth_year=1990, unit_code=unit,
                          consent_at=now, created_at=now, credentials_version=1, is_active=True)
                     for i in range(n)]
            s.add_all(users)
            s.flush()
            return [(u.id, accounts.issue_token(s, u, now=now, lifetime=timedelta(hours=12))[0]) for u in users]
    finally:
        engine.dispose()


# ------------------------------------------------------------------ gunicorn
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_pids(parent: int) -> list[int]:
    """Processes whose parent is ``parent``, from /proc (the fields after the command name)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(entry))
    return found


class Gunicorn:
    """One gunicorn master on a free loopback port, stopped (by its own pid) on exit."""

    def __init__(self, app: str, *, env: dict[str, str], workers: int, log: Path, ready_path: str) -> None:
        self.app, self.env, self.workers, self.log, self.ready_path = app, env, workers, log, ready_path
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        self.port = _free_port()
        cmd = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
               "--timeout", "60", "--graceful-timeout", "10", "--pythonpath", str(ROOT), self.app]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(cmd, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self.proc is not None
        for _ in range(1200):  # every worker booted and answering; a hang guard, not a measurement
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log}")
            if len(self.worker_pids()) == self.workers and all(self._ready() for _ in range(self.workers * 2)):
                return
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not become ready; see {self.log}")

    def _ready(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", self.ready_path)
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        return child_pids(self.proc.pid)

    def kill_one_worker(self, rng: random.Random) -> int | None:
        pids = self.worker_pids()
        if not pids:
            return None
        pid = rng.choice(pids)
        os.kill(pid, signal.SIGKILL)
        return pid

    def __exit__(self, *_exc: object) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ------------------------------------------------------------------ the HTTP client pool
@dataclass
class Reply:
    status: int
    data: Any


@dataclass
class Stats:
    responses: int = 0
    five_xx: int = 0
    conn_errors: int = 0
    locked: int = 0  # "database is locked" in a response body
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def response(self, status: int, body: bytes, seconds: float) -> None:
        with self.lock:
            self.responses += 1
            self.latencies.append(seconds)
            if status >= 500:
                self.five_xx += 1
            if b"database is locked" in body:
                self.locked += 1

    def conn_error(self) -> None:
        with self.lock:
            self.conn_errors += 1

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


class Client:
    """JSON over loopback, one connection per request (gunicorn's sync workers close it anyway).
    Connection errors and 5xx are retried with backoff, as a browser's autosave would."""

    def __init__(self, port: int, stats: Stats, *, tries: int, timeout: float, stop_at: float | None) -> None:
        self.port, self.stats, self.tries, self.timeout, self.stop_at = port, stats, tries, timeout, stop_at

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Reply | None:
        """The first non-5xx reply, or None when retries (or the time cap) ran out."""
        payload = json.dumps(body).encode("utf-8") if body is not None else b""
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for n in range(self.tries):
            if self.stop_at is not None and time.monotonic() > self.stop_at:
                return None
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            started = time.perf_counter()
            try:
                conn.request(method, path, body=payload, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException):
                self.stats.conn_error()
                _backoff(n)
                continue
            finally:
                conn.close()
            self.stats.response(resp.status, raw, time.perf_counter() - started)
            if resp.status >= 500:
                _backoff(n)
                continue
            try:
                data = json.loads(raw) if raw else None
            except ValueError:
                data = None
            return Reply(resp.status, data)
        return None


def _backoff(n: int) -> None:
    time.sleep(min(1.0, 0.02 * 2**n) * (0.5 + random.random()))


# ------------------------------------------------------------------ answers from the key
def _plain(text: str) -> str:
    text = html.unescape(re.sub(r"<[^>]*>", " ", text))
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _one(items: list[dict[str, Any]], fragment: str) -> str:
    wanted = _plain(fragment)
    ids = [item["id"] for item in items if wanted in _plain(item["text_html"])]
    if len(ids) != 1:
        raise LookupError(f"key fragment {fragment!r} matches {len(ids)} items")
    return str(ids[0])


def right_response(question: dict[str, Any], key: list[dict[str, Any]]) -> Any:
    """The response the key gives for a question, matched by visible text."""
    text = _plain(question["text_html"])
    entries = [e for e in key if _plain(e["when"]) in text]
    if len(entries) != 1:
        raise LookupError(f"{len(entries)} key entries match question {question['id']}")
    entry, choices = entries[0], question.get("choices", [])
    if "choice" in entry:
        return _one(choices, entry["choice"])
    if "choices" in entry:
        return [_one(choices, f) for f in entry["choices"]]
    if "order" in entry:
        return [_one(choices, f) for f in entry["order"]]
    if "match" in entry:
        return {_one(choices, left): _one(question["targets"], right) for left, right in entry["match"].items()}
    return entry["value"]


def wrong_response(question: dict[str, Any], right: Any) -> Any:
    """A response worth nothing, for the types where one is certain (keys built like the
    acceptance sample: a single-choice distractor is worth 0); None for the others."""
    kind = question["type"]
    if kind == "single":
        return next((c["id"] for c in question["choices"] if c["id"] != right), None)
    if kind == "true_false":
        return not right
    if kind == "short_answer":
        return "không biết"
    if kind == "numeric":
        return right + 12345
    return None


def answer_plan(question: dict[str, Any], key: list[dict[str, Any]], rng: random.Random) -> tuple[list[Any], bool]:
    """The values a learner autosaves for one question, in order, and whether the last is right."""
    right = right_response(question, key)
    wrong = wrong_response(question, right)
    roll = rng.random()
    if wrong is not None and roll < 0.10:
        return [right, wrong], False  # changed their mind, wrongly
    if wrong is not None and roll < 0.20:
        return [wrong], False
    if wrong is not None and roll < 0.40:
        return [wrong, right], True
    if roll < 0.50:
        return [right, right], True  # the autosave fired twice with the same value
    return [right], True


# ------------------------------------------------------------------ one learner
@dataclass
class Send:
    value: Any
    acked: bool = False


@dataclass
class Learner:
    user_id: int
    token: str
    attempt_id: str | None = None
    sends: dict[str, list[Send]] = field(default_factory=dict)
    expected_score: float | None = None
    max_score: float = 0.0
    submit_mode: str = ""
    told: list[dict[str, Any]] = field(default_factory=list)  # every 200 answer to a submission
    failure: str | None = None

    @property
    def completed(self) -> bool:
        return bool(self.told) and self.failure is None


def play(learner: Learner, client: Client, quiz_id: str, key: list[dict[str, Any]], rng: random.Random) -> None:
    """Start, autosave every answer, submit; records what the server acknowledged."""
    reply = client.call("POST", f"/api/v1/quizzes/{quote(quiz_id, safe='')}/attempts", {}, learner.token)
    if reply is None or reply.status != 201:
        learner.failure = f"start: {reply.status if reply else 'no reply'}"
        return
    attempt_id = learner.attempt_id = str(reply.data["attempt_id"])
    questions = list(reply.data["questions"])
    rng.shuffle(questions)  # learners jump around
    expected = 0.0
    for q in questions:
        values, right_at_end = answer_plan(q, key, rng)
        learner.max_score += float(q["points"])
        for value in values:
            send = Send(value)
            learner.sends.setdefault(q["id"], []).append(send)
            path = f"/api/v1/attempts/{attempt_id}/answers/{quote(q['id'], safe='')}"
            reply = client.call("PUT", path, {"response": value}, learner.token)
            if reply is None or not 200 <= reply.status < 300:
                learner.failure = f"PUT answer: {reply.status if reply else 'no reply'}"
                return
            send.acked = True
        if right_at_end:
            expected += float(q["points"])
    learner.expected_score = expected
    learner.submit_mode = rng.choices(["once", "twice", "concurrent"], weights=[70, 15, 15])[0]

    def submit() -> None:
        reply = client.call("POST", f"/api/v1/attempts/{attempt_id}/submission", None, learner.token)
        if reply is not None and reply.status == 200:
            learner.told.append(reply.data)
        else:
            learner.failure = f"submit: {reply.status if reply else 'no reply'}"

    if learner.submit_mode == "concurrent":
        other = threading.Thread(target=submit)
        other.start()
        submit()
        other.join()
    else:
        submit()
        if learner.submit_mode == "twice":
            submit()


# ------------------------------------------------------------------ the burst
@dataclass
class BurstRun:
    learners: list[Learner]
    stats: Stats
    elapsed: float
    killed: list[int]


def drive(server: Gunicorn, creds: list[tuple[int, str]], quiz_id: str, key: list[dict[str, Any]],
          cfg: BurstConfig) -> BurstRun:
    stats = Stats()
    stop_at = time.monotonic() + cfg.duration if cfg.duration else None
    client = Client(server.port, stats, tries=cfg.tries, timeout=cfg.request_timeout, stop_at=stop_at)
    learners = [Learner(uid, token) for uid, token in creds]
    finished = [0]
    finished_lock = threading.Lock()
    stop = threading.Event()
    killed: list[int] = []

    def one(i: int) -> None:
        try:
            if stop_at is not None and time.monotonic() > stop_at:
                learners[i].failure = "not started: time cap"
                return
            play(learners[i], client, quiz_id, key, random.Random(cfg.seed * 100_003 + i))
        finally:
            with finished_lock:
                finished[0] += 1

    def killer() -> None:
        rng = random.Random(cfg.seed)
        for k in range(cfg.kill_workers):
            threshold = len(learners) * (k + 1) / (cfg.kill_workers + 2)
            while finished[0] < threshold:
                if stop.wait(0.01):
                    return
            pid = server.kill_one_worker(rng)
            if pid is not None:
                killed.append(pid)
                cfg.log(f"SIGKILL sent to gunicorn worker {pid} after {finished[0]} learners")

    kill_thread = threading.Thread(target=killer, daemon=True) if cfg.kill_workers else None
    started = time.perf_counter()
    if kill_thread:
        kill_thread.start()
    try:
        with ThreadPoolExecutor(max_workers=cfg.concurrency) as pool:
            for future in [pool.submit(one, i) for i in range(len(learners))]:
                future.result()
    finally:
        stop.set()
        if kill_thread:
            kill_thread.join()
    return BurstRun(learners, stats, time.perf_counter() - started, killed)


def hammer_hello(port: int, requests: int, cfg: BurstConfig) -> tuple[Stats, float]:
    """The same client pool sending ``requests`` GET /hello."""
    stats = Stats()
    client = Client(port, stats, tries=cfg.tries, timeout=cfg.request_timeout, stop_at=None)
    per = [requests // cfg.concurrency + (1 if i < requests % cfg.concurrency else 0) for i in range(cfg.concurrency)]

    def loop(n: int) -> None:
        for _ in range(n):
            client.call("GET", "/hello")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=cfg.concurrency) as pool:
        for future in [pool.submit(loop, n) for n in per]:
            future.result()
    return stats, time.perf_counter() - started


# ------------------------------------------------------------------ checking the database
def _canon(value: Any) -> Any:
    """JSON values compared as JSON: 10000 == 10000.0, objects by key."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return [_canon(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canon(v) for k, v in sorted(value.items())}
    return value


@dataclass
class BurstReport:
    kind: str
    workers: int
    learners: int
    concurrency: int
    completed: int = 0
    answers_acked: int = 0  # (attempt, question) pairs with an acknowledged autosave
    autosaves_acked: int = 0  # every acknowledged PUT, overwrites included
    answers_found: int = 0
    missing: int = 0
    duplicates: int = 0  # answer rows, attempts or grade events beyond one
    five_xx: int = 0
    conn_errors: int = 0
    locked_client: int = 0
    locked_log: int = 0
    submitted: int = 0  # learners told a result
    graded_once: int = 0
    double_graded: int = 0
    ungraded: int = 0
    told_mismatch: int = 0  # stored score differs from the one told, or two tellings differ
    key_mismatch: int = 0  # told score differs from the one the answer key predicts
    failures: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    elapsed: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    killed: list[int] = field(default_factory=list)
    baselines: list[tuple[str, int, float]] = field(default_factory=list)  # (when, requests, seconds)
    load: list[tuple[str, float]] = field(default_factory=list)  # 1-minute load average, before and after
    samples: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.samples) < 10:
            self.samples.append(text)

    @property
    def cycles_per_s(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0

    @property
    def problems(self) -> list[str]:
        checks = [("lost acknowledged answers", self.missing), ("duplicates", self.duplicates),
                  ("5xx answers", self.five_xx), ("'database is locked' reaching clients", self.locked_client),
                  ("'database is locked' in the server log", self.locked_log),
                  ("attempts graded twice", self.double_graded), ("submitted attempts not graded", self.ungraded),
                  ("stored score differs from the one told", self.told_mismatch),
                  ("told score differs from the answer key", self.key_mismatch),
                  ("learners who did not finish", self.learners - self.completed)]
        return [f"{label}: {n}" for label, n in checks if n] + self.samples

    def table(self) -> str:
        head = ["learners", "answers acknowledged", "answers found", "missing", "duplicates", "5xx",
                "connection errors", "attempts graded", "full cycles/s"]
        row = [self.learners, self.answers_acked, self.answers_found, self.missing, self.duplicates, self.five_xx,
               self.conn_errors, self.graded_once, f"{self.cycles_per_s:.1f}"]
        widths = [max(len(h), len(str(v))) for h, v in zip(head, row, strict=True)]
        lines = [f"deadline burst: {self.kind}, {self.workers} gunicorn workers, {self.learners} learners, "
                 f"{self.concurrency} client threads, workers killed: {len(self.killed)}",
                 "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |",
                 "|" + "|".join("-" * (w + 2) for w in widths) + "|",
                 "| " + " | ".join(str(v).rjust(w) for v, w in zip(row, widths, strict=True)) + " |"]
        rps = self.requests / self.elapsed if self.elapsed else 0.0
        lines.append(f"completed {self.completed}/{self.learners}; autosaves acknowledged {self.autosaves_acked} "
                     f"(overwrites included); submissions told {self.submitted}, graded twice {self.double_graded}, "
                     f"score told != stored {self.told_mismatch}, != key {self.key_mismatch}; "
                     f"'database is locked': {self.locked_client} to clients, {self.locked_log} in the log")
        lines.append(f"burst: {self.requests} responses in {self.elapsed:.1f} s = {rps:.0f} req/s "
                     f"(latency p50 {self.p50 * 1000:.0f} ms, p95 {self.p95 * 1000:.0f} ms)")
        if self.baselines:
            rates = [n / t for _, n, t in self.baselines if t]
            base_rps = statistics.mean(rates)
            per_cycle = self.requests / self.completed if self.completed else 0.0
            base_cycles = base_rps / per_cycle if per_cycle else 0.0
            lines.append("baseline: bare Flask hello, same gunicorn settings and client pool: " + "; ".join(
                f"{when} {n} requests in {t:.1f} s = {n / t:.0f} req/s" for when, n, t in self.baselines if t))
            lines.append(f"ratio: {rps / base_rps:.3f}x the hello request rate (mean {base_rps:.0f} req/s); "
                         f"{self.cycles_per_s:.1f} cycles/s against {base_cycles:.1f} hello-equivalent cycles/s "
                         f"({per_cycle:.1f} requests per cycle)")
        if self.load:
            lines.append("machine load (1-minute average): " + ", ".join(f"{w} {v:.1f}" for w, v in self.load)
                         + f" on {os.cpu_count()} CPUs")
        if self.failures:
            lines.append("unfinished learners: " + ", ".join(f"{k} x{n}" for k, n in self.failures.most_common()))
        lines += [f"  {s}" for s in self.samples]
        return "\n".join(lines)


def verify(url: str, quiz_id: str, run: BurstRun, report: BurstReport) -> None:
    """Compare the database with what every client was told."""
    from sqlalchemy import select

    from lms.store import Attempt, AttemptAnswer, AuditEvent, LmsSession, make_engine

    engine = make_engine(url)
    try:
        with LmsSession(engine) as s:
            attempts = {a.id: a for a in s.scalars(select(Attempt).where(Attempt.quiz_id == quiz_id))}
            stored: dict[tuple[str, str], list[Any]] = {}
            for row in s.scalars(select(AttemptAnswer).join(Attempt, Attempt.id == AttemptAnswer.attempt_id)
                                 .where(Attempt.quiz_id == quiz_id)):
                stored.setdefault((row.attempt_id, row.question_id), []).append(row.response)
            grades = Counter(e.object_id for e in s.scalars(select(AuditEvent).where(
                AuditEvent.action == "attempt.grade", AuditEvent.object_type == "attempt")))
    finally:
        engine.dispose()

    report.duplicates += sum(len(v) - 1 for v in stored.values())
    report.duplicates += sum(n - 1 for n in Counter(a.user_id for a in attempts.values()).values())
    report.double_graded = sum(1 for aid in attempts if grades[aid] > 1)
    report.duplicates += sum(grades[aid] - 1 for aid in attempts if grades[aid] > 1)
    for learner in run.learners:
        if learner.failure:
            report.failures[learner.failure] += 1
        report.completed += learner.completed
        for qid, sends in learner.sends.items():
            acked = [i for i, send in enumerate(sends) if send.acked]
            report.autosaves_acked += len(acked)
            if not acked:
                continue
            report.answers_acked += 1
            # the last acknowledged value, or one sent after it whose answer never came back
            allowed = [_canon(send.value) for send in sends[acked[-1]:]]
            rows = stored.get((str(learner.attempt_id), qid), [])
            if rows and _canon(rows[0]) in allowed:
                report.answers_found += 1
            else:
                report.missing += 1
                report.note(f"attempt {learner.attempt_id} question {qid}: acknowledged {sends[acked[-1]].value!r}, "
                            f"stored {rows[0] if rows else 'nothing'!r}")
        if not learner.told:
            continue
        report.submitted += 1
        attempt = attempts.get(str(learner.attempt_id))
        scores = {float(t["score"]) for t in learner.told}
        if attempt is None or attempt.status != "submitted" or attempt.score is None:
            report.ungraded += 1
            report.note(f"attempt {learner.attempt_id}: told {sorted(scores)}, stored as not graded")
            continue
        if grades[attempt.id] == 1:
            report.graded_once += 1
        elif grades[attempt.id] == 0:
            report.ungraded += 1
            report.note(f"attempt {attempt.id}: submitted without a grade event")
        if len(scores) > 1 or scores != {float(attempt.score)}:
            report.told_mismatch += 1
            report.note(f"attempt {attempt.id}: told {sorted(scores)}, stored {attempt.score}")
        if learner.expected_score is not None and scores != {learner.expected_score}:
            report.key_mismatch += 1
            report.note(f"attempt {attempt.id}: told {sorted(scores)}, the key predicts {learner.expected_score}")


# ------------------------------------------------------------------ putting it together
def run_burst(cfg: BurstConfig) -> BurstReport:
    workdir = cfg.workdir or Path(tempfile.mkdtemp(prefix="lms-burst-"))
    workdir.mkdir(parents=True, exist_ok=True)
    key = json.loads(cfg.key_file.read_text(encoding="utf-8"))["questions"]
    report = BurstReport(kind=cfg.kind, workers=cfg.worker_count, learners=cfg.learners,
                         concurrency=cfg.concurrency)

    def baseline(when: str, requests: int) -> None:
        # Before and after the burst: other work on the machine moves both figures.
        cfg.log(f"baseline {when}: {requests} GET /hello")
        with Gunicorn("bench.hello_app:app", env=env, workers=cfg.worker_count, log=workdir / "gunicorn-hello.log",
                      ready_path="/hello") as server:
            stats, seconds = hammer_hello(server.port, requests, cfg)
        report.baselines.append((when, stats.responses, seconds))

    try:
        with fresh_database(cfg.kind, workdir) as url:
            env = lms_environment(url, workdir)
            quiz_id, creds = prepare(url, env, cfg)
            if cfg.baseline:
                baseline("before", cfg.learners * 11)
            log = workdir / "gunicorn-lms.log"
            report.load.append(("burst start", os.getloadavg()[0]))
            with Gunicorn("lms.wsgi:app", env=env, workers=cfg.worker_count, log=log, ready_path="/healthz") as server:
                cfg.log(f"burst: {cfg.learners} learners on port {server.port}")
                run = drive(server, creds, quiz_id, key, cfg)
            report.load.append(("burst end", os.getloadavg()[0]))
            verify(url, quiz_id, run, report)
            report.locked_log = log.read_text(encoding="utf-8", errors="replace").count("database is locked")
        stats = run.stats
        report.five_xx, report.conn_errors, report.locked_client = stats.five_xx, stats.conn_errors, stats.locked
        report.requests, report.elapsed, report.killed = stats.responses, run.elapsed, run.killed
        report.p50, report.p95 = stats.percentile(0.50), stats.percentile(0.95)
        if cfg.baseline:
            baseline("after", max(report.requests, 1))
    finally:
        if cfg.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=None, help="default: 4 on PostgreSQL, 2 on SQLite")
    parser.add_argument("--concurrency", type=int, default=64, help="client threads")
    parser.add_argument("--kill-worker", type=int, nargs="?", const=1, default=0, metavar="N",
                        help="SIGKILL N gunicorn workers (default 1) during the burst")
    parser.add_argument("--duration", type=float, default=900.0, help="cap on the burst, seconds")
    parser.add_argument("--quiz", type=Path, default=SHARED_ACCEPT / "sample_quiz.gift")
    parser.add_argument("--key", type=Path, default=SHARED_ACCEPT / "sample_quiz.key.json")
    parser.add_argument("--course", default="tri-tue-nhan-tao")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="work in DIR and keep it (gunicorn logs, the SQLite file)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    cfg = BurstConfig(kind=args.db, learners=args.learners, workers=args.workers, concurrency=args.concurrency,
                      kill_workers=args.kill_worker, duration=args.duration, quiz_file=args.quiz, key_file=args.key,
                      course_id=args.course, seed=args.seed, baseline=not args.no_baseline, workdir=args.keep,
                      log=lambda msg: print(f"[{time.monotonic() - started:6.1f}s] {msg}", file=sys.stderr, flush=True))
    report = run_burst(cfg)
    print(report.table())
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
