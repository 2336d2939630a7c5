"""A real LRS for the tests: ralph (France Université Numérique, PyPI ``ralph-malph``) with its
file-system backend, on loopback, from the venv ``make xapi-lrs`` makes under .cache/ralph (its
own, because ralph pins fastapi, pydantic and uvicorn versions of its own)."""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from lms.config import PROJECT_ROOT

__all__ = ["PYTHON", "Ralph", "validate"]

PYTHON = PROJECT_ROOT / ".cache" / "ralph" / "bin" / "python"

# ralph 5.1's file-system backend writes every POST with a "create" operation that refuses a file
# that exists, so every POST after the first answers 500: append instead. It also rewrites a JSON
# history of every request, which these tests do not need.
_LAUNCH = """import sys
from ralph.backends.data.base import BaseOperationType
from ralph.backends.data.mixins import HistoryMixin
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND
HistoryMixin.append_to_history = lambda self, event: None

import uvicorn

uvicorn.run("ralph.api:app", host="127.0.0.1", port=int(sys.argv[1]), log_level="info")
"""

_USER = """import bcrypt, json, sys
digest = bcrypt.hashpw(sys.argv[2].encode(), bcrypt.gensalt()).decode()
json.dump([{"username": sys.argv[1], "hash": digest, "scopes": ["all"],
            "agent": {"mbox": "mailto:lms-tests@example.org", "objectType": "Agent"}}], open(sys.argv[3], "w"))
"""

_VALIDATE = """import json, sys
from ralph.models.xapi.base.statements import BaseXapiStatement
problems = []
for st in json.load(open(sys.argv[1])):
    try:
        BaseXapiStatement.model_validate(st)
    except Exception as exc:
        problems.append([st.get("id"), " ".join(str(exc).split())[:400]])
print(json.dumps(problems))
"""


def _need_ralph() -> None:
    if not PYTHON.exists():
        raise RuntimeError(f"ralph is not installed at {PYTHON}: run `make xapi-lrs`")


def validate(statements: list[dict[str, Any]], tmp: Path) -> list[list[str]]:
    """Problems ralph's full xAPI 1.0.3 model (BaseXapiStatement) finds, per statement id."""
    _need_ralph()
    path = tmp / "statements.json"
    path.write_text(json.dumps(statements), encoding="utf-8")
    p = subprocess.run([str(PYTHON), "-c", _VALIDATE, str(path)], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "RALPH_RUNSERVER_BACKEND": "fs"})
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout)  # type: ignore[no-any-return]


def _free_port() -> int:
    """A loopback port nobody uses now (the SQLite and PostgreSQL runs may go side by side)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Ralph:
    """ralph's LRS on 127.0.0.1:``port``, with its statements kept in ``data`` across restarts."""

    def __init__(self, data: Path, port: int | None = None) -> None:
        _need_ralph()
        self.data, self.port = data, port or _free_port()
        self.username, self.password = "lms", "lrs-" + secrets.token_urlsafe(12)
        self.endpoint = f"http://127.0.0.1:{self.port}/xAPI/"
        self.proc: subprocess.Popen[bytes] | None = None
        (data / "lrs").mkdir(parents=True, exist_ok=True)
        (data / "launch.py").write_text(_LAUNCH, encoding="utf-8")
        subprocess.run([str(PYTHON), "-c", _USER, self.username, self.password, str(data / "auth.json")],
                       check=True, capture_output=True)

    def _listening(self) -> bool:
        with socket.socket() as s:
            s.settimeout(1)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def _headers(self) -> dict[str, str]:
        pair = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return {"Authorization": "Basic " + pair, "X-Experience-API-Version": "1.0.3"}

    def start(self) -> None:
        assert not self._listening(), f"something else listens on port {self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("RALPH_")}
        env.update(RALPH_RUNSERVER_BACKEND="fs", RALPH_AUTH_FILE=str(self.data / "auth.json"),
                   RALPH_APP_DIR=str(self.data / "app"), RALPH_HISTORY_FILE=str(self.data / "history.json"),
                   RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH=str(self.data / "lrs"))
        with open(self.data / "ralph.log", "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen([str(PYTHON), str(self.data / "launch.py"), str(self.port)],
                                         cwd=self.data, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        for _ in range(300):
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(urllib.request.Request(
                        f"http://127.0.0.1:{self.port}/whoami", headers=self._headers()), timeout=3) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("ralph did not start: " + (self.data / "ralph.log").read_text(errors="replace")[-1500:])

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
        for _ in range(50):
            if not self._listening():
                return
            time.sleep(0.2)

    def statements(self) -> list[dict[str, Any]]:
        """Everything the LRS stored (voided ones too: its fs backend hides none), page by page."""
        out: list[dict[str, Any]] = []
        url = f"http://127.0.0.1:{self.port}/xAPI/statements?limit=500"
        seen: set[str] = set()
        while True:
            with urllib.request.urlopen(urllib.request.Request(url, headers=self._headers()),
                                        timeout=60) as r:
                page = json.load(r)
            fresh = [st for st in page.get("statements", []) if st["id"] not in seen]
            seen.update(st["id"] for st in fresh)
            out += page.get("statements", [])
            more = page.get("more")
            if not more or not fresh:
                return out
            url = f"http://127.0.0.1:{self.port}{more}" if more.startswith("/") else more

    def stored_ids(self) -> list[str]:
        """The ids in ralph's files, read directly: its GET scans the whole store for every page."""
        out: list[str] = []
        for path in sorted((self.data / "lrs").glob("*.jsonl")):
            with path.open(encoding="utf-8") as f:
                out += [json.loads(line)["id"] for line in f if line.strip()]
        return out

    def refusals(self) -> list[str]:
        """Statuses other than 200/204 that ralph answered to statement POSTs (its access log)."""
        import re

        log = (self.data / "ralph.log").read_text(errors="replace")
        return [m for m in re.findall(r'"POST /xAPI/statements[^"]*" (\d{3})', log) if m not in ("200", "204")]

    def post_count(self) -> int:
        import re

        return len(re.findall(r'"POST /xAPI/statements', (self.data / "ralph.log").read_text(errors="replace")))
