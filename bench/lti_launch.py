"""What an LTI launch costs the tool, against a baseline measured in the same run.

A fresh database (SQLite in a temporary directory, or `--db postgres`), one platform served on
loopback by `lti1p3platform` (tests/lti_platform.py). Measured, through Flask's test client: the
third-party login (a state row written), and the launch (the state row consumed, the RS256
signature checked against the platform's key set, cached after the first launch, the account
made or found, the session written), and the key set page. The platform's own work (building and signing the id_token)
is timed apart and not counted. Baseline: `GET /healthz` of the same app.
Run: .venv/bin/python bench/lti_launch.py [--db sqlite|postgres] [N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import timed
from lms import Settings, create_app
from lms.services import lti
from lms.store.migrate import upgrade
from tests.databases import fresh_database
from tests.lti_platform import LEARNER, Platform, Scenario


def main(kind: str, n: int) -> None:
    with fresh_database(kind) as url, Platform().running() as p:
        upgrade(url)
        app = create_app(Settings.load({"LMS_DATABASE_URL": url, "LMS_SECRET_KEY": "b" * 40}))
        app.config["LMS_LTI_NO_DRAINER"] = True
        state = app.extensions["lms"]
        with state.sessionmaker() as s, s.begin():
            lti.add_platform(s, issuer=p.issuer, client_id=p.client_id, deployment_id=p.deployment_id,
                             auth_login_url=p.url + "/auth", auth_token_url=p.url + "/token",
                             keyset_url=p.url + "/jwks", now=datetime.now(UTC))
        client = app.test_client()
        p.tool_launch_url = client.get("/lti/config").get_json()["launch_url"]
        counter = iter(range(10**9))

        def login() -> dict[str, str]:
            sub = f"bench-{next(counter)}"
            r = client.get("/lti/login?" + urllib.parse.urlencode({"iss": p.issuer, "login_hint": sub,
                                                                   "client_id": p.client_id}))
            assert r.status_code == 302
            return {"sub": sub, "where": r.headers["Location"]}

        def sign(started: dict[str, str]) -> dict[str, str]:
            q = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(started["where"]).query))
            return p.authorize(q, Scenario(sub=started["sub"], roles=[LEARNER]))

        def launch(form: dict[str, str]) -> None:
            r = client.post("/lti/launch", data={"id_token": form["id_token"], "state": form["state"]})
            assert r.status_code == 303, r.get_data(as_text=True)[:300]

        launch(sign(login()))  # warm: the key set fetched once, templates compiled
        base = timed(lambda: client.get("/healthz"), n)
        keys_t = timed(lambda: client.get("/lti/jwks"), n)
        logins = [login() for _ in range(n)]
        login_t = timed(lambda: login(), n)
        forms = [sign(x) for x in logins]
        sign_t = timed(lambda: sign(logins[0]), n)
        it = iter(forms)
        launch_t = timed(lambda: launch(next(it)), n)
        b, lg, sg, la, ks = (statistics.median(x) for x in (base, login_t, sign_t, launch_t, keys_t))
        print(f"database: {kind}; median of {n}")
        print(f"baseline GET /healthz:            {b * 1000:.1f} ms")
        print(f"tool: third-party login:          {lg * 1000:.1f} ms ({lg / b:.1f}x baseline)")
        print(f"tool: launch (checks + sign-in):  {la * 1000:.1f} ms ({la / b:.1f}x baseline)")
        print(f"tool: GET /lti/jwks:              {ks * 1000:.1f} ms ({ks / b:.1f}x baseline)")
        print(f"platform: build and sign id_token: {sg * 1000:.1f} ms (not the tool's)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("n", nargs="?", type=int, default=50)
    args = parser.parse_args()
    main(args.db, args.n)
