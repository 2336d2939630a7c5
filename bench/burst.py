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

Several app servers: `--servers 2` starts two gunicorn masters (each with gunicorn.conf.py, 2
workers unless --workers says otherwise, on ports of their own) sharing the database, one Redis
(LMS_REDIS_URL: sessions need only the shared secret key; throttling, jobs) and one secret key,
behind Debian's nginx on a third loopback port, configured from deploy/nginx-lms.conf; the clients
talk to nginx. `--kill-server` sends SIGKILL to one whole app server (its process group: master
and workers) part-way through. A 5xx is then allowed only for a request that was in flight when
that server died (nginx answers 502 for a POST it had already passed to the dead server, and
does not send it again); every other check is the same. nginx's access log says which server
answered each request.

Run: .venv/bin/python bench/burst.py [--db postgres|sqlite] [--learners 2000] [--kill-worker]
     [--servers 2 [--kill-server] [--redis URL]]
tests/web/test_burst.py runs the same machinery with 40 learners, and with two servers behind
nginx at 30.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import http.client
import json
import os
import pwd
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
    servers: int = 1  # gunicorn masters; more than one: behind nginx (deploy/nginx-lms.conf)
    kill_servers: int = 0  # whole app servers (master and workers) to SIGKILL during the burst
    redis_url: str | None = None  # LMS_REDIS_URL of the app servers; None: no Redis
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
        """Per app server: 4 on PostgreSQL, 2 on SQLite for one; gunicorn.conf.py's 2 for each of several."""
        if self.workers:
            return self.workers
        if self.servers > 1:
            return 2
        return 4 if self.kind == "postgres" else 2


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


def lms_environment(url: str, workdir: Path, redis_url: str | None = None) -> dict[str, str]:
    """The environment of the `lms` commands and every app server: this database, one secret key,
    a private instance directory, Redis when given, and none of the caller's other LMS_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(LMS_DATABASE_URL=url, LMS_SECRET_KEY=secrets.token_hex(32),
               LMS_INSTANCE_PATH=str(workdir / "instance"), LMS_ENV="development")
    if redis_url:
        env["LMS_REDIS_URL"] = redis_url
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


def answers_ok(port: int, path: str) -> bool:
    """Whether GET ``path`` on the loopback ``port`` answers 200 (a server or proxy is ready)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


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


def _running(pid: int) -> bool:
    """Whether any thread of process ``pid`` is still there, zombies aside. The first thread of a
    gthread worker can be a zombie while the others are still exiting and holding its sockets."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for tid in threads:
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            return True
    return False


def _refused(port: int) -> bool:
    """Whether a connection to ``port`` on loopback is refused: nothing listens there any more."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


class Gunicorn:
    """One gunicorn master on a free loopback port, stopped (by its own pid) on exit. With
    ``own_group`` it leads a process group of its own, so that ``kill_all`` can SIGKILL the master
    and every worker at once, as when a machine dies."""

    def __init__(self, app: str, *, env: dict[str, str], workers: int, log: Path, ready_path: str,
                 own_group: bool = False) -> None:
        self.app, self.env, self.workers, self.log, self.ready_path = app, env, workers, log, ready_path
        self.own_group = own_group
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        self.port = _free_port()
        cmd = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
               "--timeout", "60", "--graceful-timeout", "10", "--pythonpath", str(ROOT), self.app]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(cmd, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                         process_group=0 if self.own_group else None)
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
        return answers_ok(self.port, self.ready_path)

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

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill_all(self) -> list[int]:
        """SIGKILL to the whole process group; returns once the master and every thread of every
        worker are gone and the port refuses connections."""
        assert self.proc is not None and self.own_group
        pids = [self.proc.pid, *self.worker_pids()]
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        for _ in range(1000):  # the workers, now children of init, are reaped there
            if not any(_running(pid) for pid in pids[1:]) and _refused(self.port):
                break
            time.sleep(0.005)
        return pids

    def __exit__(self, *_exc: object) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ------------------------------------------------------------------ several app servers behind nginx
NGINX_TEMPLATE = ROOT / "deploy" / "nginx-lms.conf"


def nginx_site(template: str, *, listen: str, servers: list[str], access_log: Path) -> str:
    """deploy/nginx-lms.conf with its placeholders filled in; the @APP_SERVER@ line once per server."""
    lines = []
    for line in template.splitlines():
        if "@APP_SERVER@" in line:
            lines += [line.replace("@APP_SERVER@", address) for address in servers]
        else:
            lines.append(line)
    site = "\n".join(lines).replace("@LISTEN@", listen).replace("@ACCESS_LOG@", str(access_log)) + "\n"
    if "@" in re.sub(r"#.*", "", site):
        raise ValueError("a placeholder of the nginx template was left unfilled")
    return site


class Nginx:
    """Debian's nginx, unprivileged and throwaway: the site from deploy/nginx-lms.conf inside a
    main configuration whose pid file, logs and temporary files all live in ``directory``."""

    def __init__(self, upstream_ports: list[int], *, directory: Path, ready_path: str,
                 template: Path = NGINX_TEMPLATE) -> None:
        self.upstream_ports, self.dir, self.ready_path, self.template = upstream_ports, directory, ready_path, template
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def access_log(self) -> Path:
        return self.dir / "access.log"

    def _write_config(self) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        site = self.dir / "lms-site.conf"
        site.write_text(nginx_site(self.template.read_text(encoding="utf-8"), listen=f"127.0.0.1:{self.port}",
                                   servers=[f"127.0.0.1:{p}" for p in self.upstream_ports],
                                   access_log=self.access_log), encoding="utf-8")
        temp = "\n".join(f"    {kind}_temp_path {self.dir / kind};"
                          for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # Started by root, nginx would hand its workers to "nobody", who cannot enter a private
        # temporary directory: they run as the user who runs the benchmark instead.
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
        main = self.dir / "nginx.conf"
        main.write_text(f"""{user}worker_processes 1;
pid {self.dir / "nginx.pid"};
error_log {self.dir / "error.log"} warn;
events {{
    worker_connections 1024;
}}
http {{
{temp}
    include {site};
}}
""", encoding="utf-8")
        return main

    def __enter__(self) -> Nginx:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise RuntimeError("nginx is not installed (Debian: apt-get install nginx; `make test-postgres` does it)")
        self.port = _free_port()
        main = self._write_config()
        cmd = [binary, "-p", str(self.dir), "-e", str(self.dir / "error.log"), "-c", str(main), "-g", "daemon off;"]
        self.proc = subprocess.Popen(cmd, cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            for _ in range(300):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"nginx exited with {self.proc.returncode}; see {self.dir / 'error.log'}")
                if all(self._ready() for _ in range(2 * len(self.upstream_ports))):
                    return self
                time.sleep(0.1)
            raise RuntimeError(f"nginx did not become ready; see {self.dir / 'error.log'}")
        except BaseException:
            self.__exit__()
            raise

    def _ready(self) -> bool:
        return answers_ok(self.port, self.ready_path)

    def __exit__(self, *_exc: object) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass
class ServerKill:
    server: int  # 1-based, in start order
    port: int
    pids: list[int]  # the master first
    at: float  # time.monotonic() when SIGKILL went out
    dead_at: float  # when the master and every worker were gone


class Cluster:
    """``count`` gunicorn masters on ports of their own behind one nginx; ``port`` is nginx's."""

    def __init__(self, app: str, *, count: int, env: dict[str, str], workers: int, workdir: Path, name: str,
                 ready_path: str) -> None:
        self.servers = [Gunicorn(app, env=env, workers=workers, log=workdir / f"gunicorn-{name}-{i + 1}.log",
                                 ready_path=ready_path, own_group=True) for i in range(count)]
        self.logs = [server.log for server in self.servers]
        self.nginx_dir, self.ready_path = workdir / f"nginx-{name}", ready_path
        self.nginx: Nginx | None = None
        self._stack = contextlib.ExitStack()

    @property
    def port(self) -> int:
        assert self.nginx is not None
        return self.nginx.port

    def __enter__(self) -> Cluster:
        with self._stack as stack:
            for server in self.servers:
                stack.enter_context(server)
            self.nginx = stack.enter_context(Nginx([s.port for s in self.servers], directory=self.nginx_dir,
                                                   ready_path=self.ready_path))
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.__exit__(None, None, None)

    def kill_one_worker(self, rng: random.Random) -> int | None:
        alive = [s for s in self.servers if s.alive]
        return rng.choice(alive).kill_one_worker(rng) if alive else None

    def kill_one_server(self, rng: random.Random) -> ServerKill | None:
        alive = [i for i, s in enumerate(self.servers) if s.alive]
        if len(alive) < 2:
            return None  # the last one stays: nobody would answer
        i = rng.choice(alive)
        at = time.monotonic()
        pids = self.servers[i].kill_all()
        return ServerKill(i + 1, self.servers[i].port, pids, at, time.monotonic())


def nginx_summary(log: Path, servers: list[int], kills: list[ServerKill]) -> list[str]:
    """Who answered what, from nginx's access log (format lms_upstream of deploy/nginx-lms.conf)."""
    answered: Counter[str] = Counter()
    failed_502: Counter[str] = Counter()  # nginx's 502s, by the server that failed last
    passed_on = 0
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        found = re.search(r' (\d{3}) ".*" upstream=(\S.*?) upstream_status=', line)
        if not found:
            continue
        status, upstream = found.groups()
        tried = [u.strip() for u in upstream.split(",")]
        if len(tried) > 1:
            passed_on += 1
        if status == "502":
            failed_502[tried[-1]] += 1
        answered[tried[-1]] += 1
    killed = {k.port for k in kills}
    parts = [f"server {i} (:{port}{', killed' if port in killed else ''}) {answered[f'127.0.0.1:{port}']}"
             for i, port in enumerate(servers, start=1)]
    made_502 = sum(failed_502.values())
    errors = [f"server {i} {failed_502.pop(f'127.0.0.1:{port}', 0)}" for i, port in enumerate(servers, start=1)]
    errors += [f"{where} {n}" for where, n in failed_502.items()]  # "lms_app": no server was live
    return [f"nginx: requests by the server that answered or failed last: {'; '.join(parts)}; "
            f"passed on to the next server {passed_on}; 502 {made_502} ({', '.join(errors)})"]


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
    # (sent, ended, what) per 5xx or connection error, in time.monotonic() seconds
    troubles: list[tuple[float, float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def response(self, status: int, body: bytes, seconds: float, sent: float = 0.0) -> None:
        with self.lock:
            self.responses += 1
            self.latencies.append(seconds)
            if status >= 500:
                self.five_xx += 1
                self.troubles.append((sent, time.monotonic(), str(status)))
            if b"database is locked" in body:
                self.locked += 1

    def conn_error(self, sent: float = 0.0) -> None:
        with self.lock:
            self.conn_errors += 1
            self.troubles.append((sent, time.monotonic(), "connection error"))

    def in_flight(self, kills: list[ServerKill]) -> tuple[int, int]:
        """5xx and connection errors of requests sent before a killed server was gone and ended
        after it was killed: the requests that server took down with it."""
        def hit(sent: float, ended: float) -> bool:
            return any(sent <= k.dead_at and ended >= k.at for k in kills)
        five = sum(1 for sent, ended, what in self.troubles if what != "connection error" and hit(sent, ended))
        conn = sum(1 for sent, ended, what in self.troubles if what == "connection error" and hit(sent, ended))
        return five, conn

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
            sent = time.monotonic()
            started = time.perf_counter()
            try:
                conn.request(method, path, body=payload, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException):
                self.stats.conn_error(sent)
                _backoff(n)
                continue
            finally:
                conn.close()
            self.stats.response(resp.status, raw, time.perf_counter() - started, sent)
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
    server_kills: list[ServerKill] = field(default_factory=list)


def drive(server: Gunicorn | Cluster, creds: list[tuple[int, str]], quiz_id: str, key: list[dict[str, Any]],
          cfg: BurstConfig) -> BurstRun:
    stats = Stats()
    stop_at = time.monotonic() + cfg.duration if cfg.duration else None
    client = Client(server.port, stats, tries=cfg.tries, timeout=cfg.request_timeout, stop_at=stop_at)
    learners = [Learner(uid, token) for uid, token in creds]
    finished = [0]
    finished_lock = threading.Lock()
    stop = threading.Event()
    killed: list[int] = []
    server_kills: list[ServerKill] = []

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
        plan = ["worker"] * cfg.kill_workers + ["server"] * cfg.kill_servers
        for k, what in enumerate(plan):
            threshold = len(learners) * (k + 1) / (len(plan) + 2)
            while finished[0] < threshold:
                if stop.wait(0.01):
                    return
            if what == "worker":
                pid = server.kill_one_worker(rng)
                if pid is not None:
                    killed.append(pid)
                    cfg.log(f"SIGKILL sent to gunicorn worker {pid} after {finished[0]} learners")
            elif isinstance(server, Cluster) and (gone := server.kill_one_server(rng)) is not None:
                server_kills.append(gone)
                cfg.log(f"SIGKILL sent to app server {gone.server} (port {gone.port}: master {gone.pids[0]}, "
                        f"workers {gone.pids[1:]}) after {finished[0]} learners; gone "
                        f"{(gone.dead_at - gone.at) * 1000:.0f} ms later")

    kill_thread = threading.Thread(target=killer, daemon=True) if cfg.kill_workers or cfg.kill_servers else None
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
    return BurstRun(learners, stats, time.perf_counter() - started, killed, server_kills)


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
    servers: int = 1  # gunicorn masters (behind nginx when more than one)
    server_kills: list[ServerKill] = field(default_factory=list)
    five_xx_at_kill: int = 0  # 5xx of requests in flight on a server when it was killed
    conn_errors_at_kill: int = 0
    troubles_after_kill: str = ""  # when the 5xx and connection errors ended, relative to the kill
    proxy: list[str] = field(default_factory=list)  # nginx's view, from its access log
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
                  ("5xx answers" + (" besides those in flight on the killed server" if self.server_kills else ""),
                   self.five_xx - self.five_xx_at_kill), ("'database is locked' reaching clients", self.locked_client),
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
        where = (f"{self.servers} app servers x {self.workers} gunicorn workers behind nginx" if self.servers > 1
                 else f"{self.workers} gunicorn workers")
        servers_killed = f", app servers killed: {len(self.server_kills)}" if self.servers > 1 else ""
        lines = [f"deadline burst: {self.kind}, {where}, {self.learners} learners, "
                 f"{self.concurrency} client threads, workers killed: {len(self.killed)}{servers_killed}",
                 "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |",
                 "|" + "|".join("-" * (w + 2) for w in widths) + "|",
                 "| " + " | ".join(str(v).rjust(w) for v, w in zip(row, widths, strict=True)) + " |"]
        rps = self.requests / self.elapsed if self.elapsed else 0.0
        lines.append(f"completed {self.completed}/{self.learners}; autosaves acknowledged {self.autosaves_acked} "
                     f"(overwrites included); submissions told {self.submitted}, graded twice {self.double_graded}, "
                     f"score told != stored {self.told_mismatch}, != key {self.key_mismatch}; "
                     f"'database is locked': {self.locked_client} to clients, {self.locked_log} in the log")
        if self.server_kills:
            lines.append(f"in flight on the killed server when it died: {self.five_xx_at_kill} 5xx, "
                         f"{self.conn_errors_at_kill} connection errors; any other time: "
                         f"{self.five_xx - self.five_xx_at_kill} 5xx, "
                         f"{self.conn_errors - self.conn_errors_at_kill} connection errors"
                         + (f" ({self.troubles_after_kill})" if self.troubles_after_kill else ""))
        lines += self.proxy
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
                         concurrency=cfg.concurrency, servers=cfg.servers)

    def serve(app: str, name: str, ready_path: str) -> Gunicorn | Cluster:
        """One gunicorn as before, or several behind nginx."""
        if cfg.servers > 1:
            return Cluster(app, count=cfg.servers, env=env, workers=cfg.worker_count, workdir=workdir, name=name,
                           ready_path=ready_path)
        return Gunicorn(app, env=env, workers=cfg.worker_count, log=workdir / f"gunicorn-{name}.log",
                        ready_path=ready_path)

    def baseline(when: str, requests: int) -> None:
        # Before and after the burst: other work on the machine moves both figures.
        cfg.log(f"baseline {when}: {requests} GET /hello")
        with serve("bench.hello_app:app", f"hello-{when}", "/hello") as server:
            stats, seconds = hammer_hello(server.port, requests, cfg)
        report.baselines.append((when, stats.responses, seconds))

    try:
        with fresh_database(cfg.kind, workdir) as url:
            env = lms_environment(url, workdir, cfg.redis_url)
            quiz_id, creds = prepare(url, env, cfg)
            if cfg.baseline:
                baseline("before", cfg.learners * 11)
            report.load.append(("burst start", os.getloadavg()[0]))
            with serve("lms.wsgi:app", "lms", "/healthz") as server:
                behind = (f" behind nginx to ports {[s.port for s in server.servers]}"
                          if isinstance(server, Cluster) else "")
                cfg.log(f"burst: {cfg.learners} learners on port {server.port}{behind}")
                run = drive(server, creds, quiz_id, key, cfg)
            report.load.append(("burst end", os.getloadavg()[0]))
            verify(url, quiz_id, run, report)
            logs = server.logs if isinstance(server, Cluster) else [server.log]
            report.locked_log = sum(log.read_text(encoding="utf-8", errors="replace").count("database is locked")
                                    for log in logs)
            if isinstance(server, Cluster) and server.nginx is not None:
                report.proxy = nginx_summary(server.nginx.access_log, [s.port for s in server.servers],
                                             run.server_kills)
        stats = run.stats
        report.five_xx, report.conn_errors, report.locked_client = stats.five_xx, stats.conn_errors, stats.locked
        report.requests, report.elapsed, report.killed = stats.responses, run.elapsed, run.killed
        report.server_kills = run.server_kills
        report.five_xx_at_kill, report.conn_errors_at_kill = stats.in_flight(run.server_kills)
        if run.server_kills and stats.troubles:
            kill_at = run.server_kills[0].at
            offsets = [ended - kill_at for _, ended, _ in stats.troubles]
            report.troubles_after_kill = (f"the first ended {min(offsets):+.2f} s, the last {max(offsets):+.2f} s "
                                          f"from the kill")
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
    parser.add_argument("--workers", type=int, default=None,
                        help="per app server; default: 4 on PostgreSQL, 2 on SQLite, 2 each with --servers")
    parser.add_argument("--concurrency", type=int, default=64, help="client threads")
    parser.add_argument("--kill-worker", type=int, nargs="?", const=1, default=0, metavar="N",
                        help="SIGKILL N gunicorn workers (default 1) during the burst")
    parser.add_argument("--servers", type=int, default=1,
                        help="gunicorn masters; 2 or more: behind nginx (deploy/nginx-lms.conf), sharing Redis")
    parser.add_argument("--kill-server", type=int, nargs="?", const=1, default=0, metavar="N",
                        help="SIGKILL N whole app servers (default 1; master and workers) during the burst")
    parser.add_argument("--redis", default=None, metavar="URL",
                        help="LMS_REDIS_URL of the app servers; default with --servers: the tests' Redis "
                             "(LMS_TEST_REDIS_URL, tests/databases.py)")
    parser.add_argument("--duration", type=float, default=900.0, help="cap on the burst, seconds")
    parser.add_argument("--quiz", type=Path, default=SHARED_ACCEPT / "sample_quiz.gift")
    parser.add_argument("--key", type=Path, default=SHARED_ACCEPT / "sample_quiz.key.json")
    parser.add_argument("--course", default="tri-tue-nhan-tao")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="work in DIR and keep it (gunicorn logs, the SQLite file)")
    args = parser.parse_args(argv)
    if args.kill_server and args.kill_server >= args.servers:
        parser.error("--kill-server needs more --servers than it kills (one must stay to answer)")
    redis_url = args.redis
    if redis_url is None and args.servers > 1:
        from tests.databases import REDIS_URL as redis_url
    started = time.monotonic()
    cfg = BurstConfig(kind=args.db, learners=args.learners, workers=args.workers, concurrency=args.concurrency,
                      kill_workers=args.kill_worker, servers=args.servers, kill_servers=args.kill_server,
                      redis_url=redis_url, duration=args.duration, quiz_file=args.quiz, key_file=args.key,
                      course_id=args.course, seed=args.seed, baseline=not args.no_baseline, workdir=args.keep,
                      log=lambda msg: print(f"[{time.monotonic() - started:6.1f}s] {msg}", file=sys.stderr, flush=True))
    report = run_burst(cfg)
    print(report.table())
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
