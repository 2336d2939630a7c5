"""What a bearer-token check costs, in process: the full check that loads the account entity
(accounts.resolve_token), the attempt API's light one (accounts.token_holder), loading the
account alone, an empty transaction, and the same query through the sqlite3 module. CPU time per
check, a session opened and closed for each, three rounds interleaved (bench/README.md, issue 14).

Run: .venv/bin/python bench/token_check.py [N]
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    tmp = tempfile.mkdtemp(prefix="lms-token-")
    url = f"sqlite:///{tmp}/lms.db"
    env = dict(os.environ, LMS_DATABASE_URL=url, LMS_INSTANCE_PATH=tmp)
    subprocess.run([str(Path(sys.executable).parent / "lms"), "db", "upgrade"], env=env, check=True,
                   capture_output=True)
    os.environ.update(LMS_DATABASE_URL=url, LMS_INSTANCE_PATH=tmp)
    from sqlalchemy import text

    from lms import create_app
    from lms.services import accounts
    from lms.store import User

    maker = create_app().extensions["lms"].sessionmaker
    with maker() as session:
        user = accounts.create_user(session, role="citizen", login="bench@example.vn", password="Mat-khau-2026!x",
                                    full_name="Người Thử", unit_code=None, now=datetime.now(UTC))
        session.flush()
        raw, _ = accounts.issue_token(session, user, now=datetime.now(UTC), lifetime=timedelta(hours=5))
        user_id = user.id
        session.commit()
    digest = hashlib.sha256(raw.encode()).hexdigest()  # how accounts stores a token
    plain = sqlite3.connect(f"{tmp}/lms.db", isolation_level=None)

    def in_session(check: Callable[..., object]) -> Callable[[], None]:
        def run() -> None:
            with maker() as session:
                check(session)
                session.commit()
        return run

    def by_sqlite3() -> None:
        plain.execute("BEGIN")
        plain.execute("SELECT u.id, u.login FROM api_tokens t JOIN users u ON u.id = t.user_id "
                      "WHERE t.token_hash = ?", (digest,)).fetchone()
        plain.execute("COMMIT")

    cases = {
        "resolve_token (token and account entities)": in_session(
            lambda s: accounts.resolve_token(s, raw, now=datetime.now(UTC))),
        "token_holder (id and login, prebuilt select)": in_session(
            lambda s: accounts.token_holder(s, raw, now=datetime.now(UTC))),
        "session.get(User) alone": in_session(lambda s: s.get(User, user_id)),
        "a session, SELECT 1, commit": in_session(lambda s: s.execute(text("SELECT 1"))),
        "the same query through sqlite3": by_sqlite3,
    }
    for rnd in range(3):
        for name, case in cases.items():
            start = time.process_time()
            for _ in range(n):
                case()
            print(f"round {rnd + 1}: {name}: {(time.process_time() - start) / n * 1e6:.0f} µs of CPU")


if __name__ == "__main__":
    main()
