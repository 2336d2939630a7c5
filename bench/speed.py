"""Throughput of the LMS as a ratio to a bare Flask app served the same way, in one run.

The baseline is bench/hello_app.py under gunicorn with 2 sync workers (how a bare Flask app is
usually served); the LMS runs with the settings of `make run` (gunicorn.conf.py). wrk drives
both on loopback: home `/`, a lesson page, `GET /api/v1/lessons/{id}`, `/healthz`, full quiz
cycles by 16 learners (start, 6 autosaves, submit: bench/wrk/cycle.lua) and autosaves alone
(bench/wrk/autosave.lua). The hello rate is taken before and after and averaged: other work on
the machine moves every absolute figure, so read the ratios. Afterwards it prints where the
machine's CPU went during the quiz's loads (LMS workers, PostgreSQL, wrk) and each LMS worker's
resident memory.

With ``--db-cpus 1`` (PostgreSQL on this machine; run as the user of its processes, or root),
PostgreSQL's processes run on those CPUs only and the hello app, the LMS and wrk on the others, as
when the database has a machine of its own: both sides of every ratio then get the same CPUs.
The affinities are put back afterwards.

Run: .venv/bin/python bench/speed.py [--db sqlite|postgres] [--seconds 8] [--db-cpus 1]
Needs wrk (Debian package `wrk`; `make bench-deps` installs it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.burst import _free_port, _lms, child_pids, create_learners, fresh_database, lms_environment  # noqa: E402

BIN = Path(sys.executable).parent
WRK = ROOT / "bench" / "wrk"
GIFT = "\n\n".join(f"::S{i}:: Câu hỏi số {i}? {{=Đúng ~Sai ~Không biết}}" for i in range(1, 7)) + "\n"
GOALS = {"home": 0.5, "lesson page": 0.5, "lesson API": 0.5, "healthz": 0.8, "quiz cycles (per request)": 0.4,
         "autosave": 0.4}


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user + system, from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """The machine's busy and total CPU seconds so far, over every CPU (from /proc/stat)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK"), sum(ticks) / os.sysconf("SC_CLK_TCK")


def processes(command: str) -> list[int]:
    """The ids of the processes whose command is ``command``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if text.split("(", 1)[1].rsplit(")", 1)[0] == command:
            found.append(int(stat.parent.name))
    return found


def named_cpu(command: str) -> float:
    """CPU seconds so far of every process whose command is ``command`` (PostgreSQL's backends)."""
    total = 0.0
    for pid in processes(command):
        with contextlib.suppress(OSError):  # gone meanwhile
            total += cpu_seconds(pid)
    return total


@contextlib.contextmanager
def database_apart(cpus: set[int]) -> Iterator[None]:
    """PostgreSQL's processes on ``cpus`` (the backends it forks meanwhile inherit that), this
    script and what it starts on the others; every PostgreSQL process back on all CPUs after."""
    everything = set(range(os.cpu_count() or 1))
    rest = everything - cpus
    if not cpus or not rest or not cpus <= everything:
        raise SystemExit(f"--db-cpus must name some of CPUs 0-{len(everything) - 1} and leave one for the LMS")
    database = processes("postgres")
    if not database:
        raise SystemExit("--db-cpus: no PostgreSQL process on this machine")
    for pid in database:
        os.sched_setaffinity(pid, cpus)
    own = os.sched_getaffinity(0)
    os.sched_setaffinity(0, rest)
    try:
        yield
    finally:
        os.sched_setaffinity(0, own)
        for pid in processes("postgres"):
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, everything)


class CpuShare:
    """Where the machine's CPU went while a load ran: the LMS's workers, PostgreSQL's processes,
    wrk, and everything else, as shares of all CPUs. The quiz's writes on PostgreSQL wait for the
    database (its CPU, its commits); this tells waiting from computing."""

    def __init__(self, workers: list[int]) -> None:
        self.workers = workers
        self.start = self._read()

    def _read(self) -> tuple[float, ...]:
        busy, total = machine_cpu()
        waited = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once it has exited
        return (busy, total, sum(cpu_seconds(pid) for pid in self.workers), named_cpu("postgres"),
                waited.ru_utime + waited.ru_stime)

    def report(self) -> str:
        end = self._read()
        busy, total, lms, pg, load = (b - a for a, b in zip(self.start, end, strict=True))
        other = busy - lms - pg - load
        return (f"machine {busy / total:.0%} busy: LMS workers {lms / total:.0%}, PostgreSQL {pg / total:.0%}, "
                f"wrk {load / total:.0%}, other {other / total:.0%}")


def _serve(args: list[str], *, env: dict[str, str], cwd: Path, port: int, ready: str,
           log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", *args], env=env, cwd=cwd,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(600):  # a hang guard, not a measurement
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=5) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer; see {log}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def wrk(url: str, seconds: int, *, conns: int = 16, threads: int = 2, script: Path | None = None,
        env: dict[str, str] | None = None) -> tuple[float, str]:
    """Requests per second (0 when any answer was not 2xx/3xx) and wrk's output."""
    args = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", *(["-s", str(script)] if script else []), url]
    out = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, **(env or {})),
                         timeout=seconds + 60).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return (float(rate.group(1)) if rate and not bad else 0.0), out


def _json(url: str, data: dict[str, object] | None = None, token: str | None = None) -> object:
    req = urllib.request.Request(url, data=json.dumps(data).encode() if data is not None else None,
                                 headers={"Content-Type": "application/json",
                                          **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--learners", type=int, default=16)
    ap.add_argument("--db-cpus", default="", help="PostgreSQL on these CPUs only (e.g. 1), the rest on the others")
    args = ap.parse_args()
    if args.db_cpus and args.db != "postgres":
        ap.error("--db-cpus is for --db postgres")
    if shutil.which("wrk") is None:
        print("wrk is missing: `make bench-deps` (Debian package wrk)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="lms-speed-") as tmp_name:
        tmp = Path(tmp_name)
        apart = database_apart({int(c) for c in args.db_cpus.split(",")}) if args.db_cpus \
            else contextlib.nullcontext()
        with fresh_database(args.db, tmp) as url, apart:
            return run(url, tmp, args)


def run(url: str, tmp: Path, args: argparse.Namespace) -> int:
    env = lms_environment(url, tmp)
    for knob in ("LMS_WORKERS", "LMS_THREADS", "LMS_WORKER_CLASS"):  # gunicorn.conf.py's, to compare settings
        if os.environ.get(knob):
            env[knob] = os.environ[knob]
    _lms(env, "db", "upgrade")
    _lms(env, "content", "sync")
    (tmp / "speed.gift").write_text(GIFT, encoding="utf-8")
    lms_port, hello_port = _free_port(), _free_port()
    base = f"http://127.0.0.1:{lms_port}"
    hello_dir = tmp / "hello"
    hello_dir.mkdir()
    shutil.copy(ROOT / "bench" / "hello_app.py", hello_dir / "hello_app.py")
    hello = _serve(["--workers", "2", "hello_app:app"], env=dict(os.environ), cwd=hello_dir, port=hello_port,
                   ready="/hello", log=tmp / "hello.log")
    lms = None
    try:
        course = "an-toan-so"
        out = _lms(env, "quiz", "import", str(tmp / "speed.gift"), "--course", course)
        quiz = json.loads(out.strip().splitlines()[-1])["quiz_id"]
        tokens = [t for _, t in create_learners(url, args.learners * 2)]
        lms = _serve(["-c", str(ROOT / "gunicorn.conf.py"), "--pythonpath", str(ROOT), "lms.wsgi:app"], env=env,
                     cwd=ROOT, port=lms_port, ready="/healthz", log=tmp / "lms.log")
        lesson = _json(f"{base}/api/v1/courses/{course}")["lessons"][0]["id"]  # type: ignore[index]
        (tmp / "tokens.txt").write_text("\n".join(tokens[:args.learners]) + "\n")
        saves = []
        for token in tokens[args.learners:]:
            body = _json(f"{base}/api/v1/quizzes/{quiz}/attempts", {}, token)
            q = body["questions"][0]  # type: ignore[index]
            saves.append(f"{token} {body['attempt_id']} {q['id']} {q['choices'][0]['id']} {q['choices'][1]['id']}")  # type: ignore[index]
        (tmp / "saves.txt").write_text("\n".join(saves) + "\n")
        page = f"/lessons/{lesson}"
        urllib.request.urlopen(base + page, timeout=30).read()  # warm
        s = args.seconds
        h1, _ = wrk(f"http://127.0.0.1:{hello_port}/hello", s)
        rates = {
            "home": wrk(base + "/", s)[0],
            "lesson page": wrk(base + page, s)[0],
            "lesson API": wrk(f"{base}/api/v1/lessons/{lesson}", s)[0],
            "healthz": wrk(base + "/healthz", s)[0],
        }
        n = args.learners
        workers = child_pids(lms.pid)
        cpu0, t0 = [cpu_seconds(pid) for pid in workers], time.perf_counter()
        share = CpuShare(workers)
        cyc, cyc_out = wrk(base, s + 2, conns=n, threads=n, script=WRK / "cycle.lua",
                           env={"SPEED_TOKENS": str(tmp / "tokens.txt"), "SPEED_QUIZ": quiz})
        # how busy each worker was: well under 100% means waiting (the write lock), not computing
        busy = [(cpu_seconds(pid) - c) / (time.perf_counter() - t0) for pid, c in zip(workers, cpu0, strict=True)]
        rates["quiz cycles (per request)"] = cyc
        cycles_share, share = share.report(), CpuShare(workers)
        save, save_out = wrk(base, s, conns=n, threads=n, script=WRK / "autosave.lua",
                             env={"SPEED_SAVES": str(tmp / "saves.txt")})
        saves_share = share.report()
        rates["autosave"] = save
        h2, _ = wrk(f"http://127.0.0.1:{hello_port}/hello", s)
        hello_rate = (h1 + h2) / 2 or 1.0
        m = re.search(r"CYCLES (\d+) ERRORS (\d+) SECONDS ([\d.]+)", cyc_out)
        cycles, errors, secs = (int(m[1]), int(m[2]), float(m[3])) if m else (0, -1, 1.0)
        save_errors = re.search(r"ERRORS (\d+)", save_out)
        print(f"speed: {args.db}, LMS under gunicorn.conf.py ({env.get('LMS_WORKER_CLASS', 'sync')}, "
              f"workers {len(workers)}, threads {env.get('LMS_THREADS', 1)}), "
              "baseline hello under 2 sync workers, "
              f"wrk {s} s per figure, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
              + (f"; PostgreSQL on CPU {args.db_cpus}, the rest on CPU "
                 f"{','.join(str(c) for c in sorted(os.sched_getaffinity(0)))}" if args.db_cpus else ""))
        print(f"bare Flask hello: {h1:.0f} and {h2:.0f} req/s (before, after); mean {hello_rate:.0f}")
        print("| figure | req/s | ratio to hello | goal | met |")
        print("|---|---|---|---|---|")
        for name, rate in rates.items():
            ratio = rate / hello_rate
            met = "yes" if ratio >= GOALS[name] else "NO"
            print(f"| {name} | {rate:.0f} | {ratio:.2f}x | >= {GOALS[name]}x | {met} |")
        print(f"quiz cycles: {cycles} in {secs:.0f} s = {cycles / secs:.1f}/s by {n} learners, {errors} errors; "
              f"autosave errors: {save_errors[1] if save_errors else '?'}; worker CPU during the cycles: "
              + ", ".join(f"{b:.0%}" for b in busy))
        print(f"CPU during the cycles: {cycles_share}; during the autosaves: {saves_share}")
        rss = [rss_mb(pid) for pid in child_pids(lms.pid)]
        print("worker RSS after the run: " + ", ".join(f"{r:.0f} MB" for r in rss) + " (goal <= 150 MB each)")
        met = all(rates[k] / hello_rate >= g for k, g in GOALS.items()) and errors == 0 and rss and max(rss) <= 150
        return 0 if met else 1
    finally:
        if lms is not None:
            _stop(lms)
        _stop(hello)


if __name__ == "__main__":
    sys.exit(main())
