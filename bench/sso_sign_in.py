"""How long the site's part of a single sign-on takes, against a password sign-in in the same run.

A fresh database (SQLite in a temporary directory, or `--db postgres`), the LMS through Flask's test
client, and the test suite's oidc-provider on 127.0.0.1:5962 (tests/sso/partner.py; `make test-sso`
installs it). Measured per sign-in of a returning person: GET /login/oidc (discovery cached; state,
nonce, PKCE) and GET /login/oidc/callback (code exchange, JWKS-cached ID token validation, userinfo,
account lookup, audit). The provider's own login and consent forms are not counted. Baseline: POST
/login with a password (one scrypt hash check).
Run: .venv/bin/python bench/sso_sign_in.py [N] [--db postgres]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import timed
from lms import create_app
from lms.config import Settings
from lms.services import accounts
from lms.store.migrate import upgrade
from tests.databases import fresh_database
from tests.sso.partner import CLIENT_ID, CLIENT_SECRET, ProviderBrowser, running_provider

PASSWORD = "Mat-khau-bench-2026"


def main(n: int, kind: str) -> None:
    with fresh_database(kind) as url, running_provider() as provider, tempfile.TemporaryDirectory() as tmp:
        upgrade(url)
        settings = Settings.load({"LMS_DATABASE_URL": url, "LMS_SECRET_KEY": "b" * 64, "LMS_INSTANCE_PATH": tmp,
                                  "LMS_OIDC_ISSUER": provider.issuer, "LMS_OIDC_CLIENT_ID": CLIENT_ID,
                                  "LMS_OIDC_CLIENT_SECRET": CLIENT_SECRET})
        app = create_app(settings)
        app.config.update(TESTING=True, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
        with app.app_context(), app.extensions["lms"].sessionmaker() as s, s.begin():
            from lms.services.units import ensure_units

            ensure_units(s)
            accounts.create_user(s, role="citizen", login="0912999000", password=PASSWORD, full_name="Bench",
                                 unit_code="28756", now=datetime.now(UTC))
        provider.people(**{"bench-1": {"name": "Bench", "phone_number": "0912999001", "phone_number_verified": True}})
        browser = ProviderBrowser()
        client = app.test_client()

        def one_sign_in() -> tuple[float, float]:
            t0 = time.perf_counter()
            start = client.get("/login/oidc")
            t1 = time.perf_counter()
            callback_url = browser.sign_in(start.headers["Location"], "bench-1")  # not counted
            path = re.sub(r"^https?://[^/]+", "", callback_url)
            t2 = time.perf_counter()
            done = client.get(path)
            t3 = time.perf_counter()
            assert done.status_code == 302, done.get_data(as_text=True)[:300]
            client.post("/logout")
            return t1 - t0, t3 - t2

        first = client.get(re.sub(r"^https?://[^/]+", "", browser.sign_in(
            client.get("/login/oidc").headers["Location"], "bench-1")))  # creates the account, warms caches
        assert first.headers["Location"].endswith("/login/oidc/complete")
        client.post("/login/oidc/complete", data={"province": "86", "unit_code": "28756", "consent": "yes"})
        client.post("/logout")
        phases = [one_sign_in() for _ in range(n)]
        password = timed(lambda: (client.post("/login", data={"login": "0912999000", "password": PASSWORD}),
                                  client.post("/logout")), n)
        start_ms = statistics.median(p[0] for p in phases) * 1000
        callback_ms = statistics.median(p[1] for p in phases) * 1000
        base_ms = statistics.median(password) * 1000
        print(f"database: {kind}; {n} sign-ins of a returning person")
        print(f"baseline password sign-in (POST /login + logout): {base_ms:.0f} ms (median)")
        print(f"GET /login/oidc:                                  {start_ms:.1f} ms "
              f"({start_ms / base_ms:.2f}x baseline)")
        print(f"GET /login/oidc/callback:                         {callback_ms:.0f} ms ({callback_ms / base_ms:.2f}x "
              "baseline; includes the token and userinfo round trips to the provider)")
        print(f"provider figures: {provider.stats()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=20)
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgres"))
    args = parser.parse_args()
    main(args.n, args.db)
