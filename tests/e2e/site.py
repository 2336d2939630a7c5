"""The real application for browser tests: a fresh SQLite database prepared with the `lms`
commands a deployment runs (migrate, load the content, seed the demo), served by gunicorn in a
process of its own on a loopback port that the kernel picks."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lms.services.unit_of_work import make_sessionmaker
from lms.store import make_engine

__all__ = ["BIN", "LiveSite", "serve"]

BIN = Path(sys.executable).parent


@dataclass
class LiveSite:
    url: str
    database_url: str
    env: dict[str, str]
    engine: Engine
    log: Path

    def lms_run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run an `lms` command against the site's database, whatever its exit status."""
        return subprocess.run([str(BIN / "lms"), *args], env=self.env, capture_output=True, text=True)

    def lms(self, *args: str) -> Any:
        """Run an `lms` command that must succeed; its JSON output, parsed."""
        done = self.lms_run(*args)
        assert done.returncode == 0, f"lms {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        lines = [line for line in done.stdout.splitlines() if line.startswith(("{", "["))]
        return json.loads(lines[-1]) if lines else done.stdout

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session on the site's database in a transaction that commits on leaving."""
        with make_sessionmaker(self.engine)() as s, s.begin():
            yield s

    def post_json(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),  # noqa: S310 (http://127.0.0.1)
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request) as response:  # noqa: S310 (the live site on loopback)
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=10) as response:  # noqa: S310 (loopback)
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextmanager
def serve(folder: Path, port: int = 0, extra_env: dict[str, str] | None = None) -> Iterator[LiveSite]:
    """``port`` 0 lets the kernel pick; a partner that must know the site's URL in advance (the
    single sign-on test's provider) passes a fixed one, with the settings it needs in ``extra_env``."""
    gunicorn = shutil.which("gunicorn", path=str(BIN))
    assert gunicorn, "gunicorn is missing from the virtualenv: run `make install`"
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a fixed port may be in TIME_WAIT
    try:
        listener.bind(("127.0.0.1", port))  # 0: the kernel picks a free port; gunicorn inherits the socket
    except OSError:
        listener.close()
        raise
    listener.listen(64)
    listener.set_inheritable(True)
    port = listener.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    database_url = f"sqlite:///{folder / 'lms.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(LMS_DATABASE_URL=database_url, LMS_INSTANCE_PATH=str(folder / "instance"),
               LMS_SECRET_KEY=secrets.token_hex(32), LMS_PUBLIC_URL=url, LMS_ENV="development",
               LMS_PORT=str(port), PYTHONWARNINGS="ignore", **(extra_env or {}))
    site = LiveSite(url=url, database_url=database_url, env=env, engine=make_engine(database_url),
                    log=folder / "gunicorn.log")
    site.lms("db", "upgrade")
    site.lms("content", "sync")
    site.lms("demo", "seed")
    with site.log.open("w") as log:
        process = subprocess.Popen(
            [gunicorn, "--bind", f"fd://{listener.fileno()}", "--workers", "2", "--threads", "4",
             "--timeout", "120", "--graceful-timeout", "5", "lms.wsgi:app"],
            env=env, pass_fds=(listener.fileno(),), stdout=log, stderr=subprocess.STDOUT)
    listener.close()
    try:
        # Until the server answers or dies: no deadline, a dead server fails at once with its log.
        while not _healthy(url):
            if process.poll() is not None:
                raise RuntimeError(f"the server stopped (exit {process.returncode}):\n{site.log.read_text()}")
            time.sleep(0.1)
        yield site
    finally:
        process.terminate()
        process.wait()
        site.engine.dispose()
