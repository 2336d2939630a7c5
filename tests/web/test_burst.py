"""The deadline burst (bench/burst.py) at a small size: 40 learners against a real gunicorn on
the database chosen by LMS_TEST_DATABASE, with one worker killed by SIGKILL mid-run. Nothing may
be lost, graded twice or answered with a 5xx. Figures are the benchmark's business, not this
test's: no timing is asserted. On PostgreSQL, the same with two app servers behind nginx and one
of them killed whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.burst import BurstConfig, run_burst
from tests.conftest import KIND
from tests.databases import REDIS_URL
from tests.shared_dir import SHARED


def test_deadline_burst_with_a_killed_worker_loses_nothing(tmp_path: Path) -> None:
    cfg = BurstConfig(kind=KIND, learners=40, concurrency=16, kill_workers=1, duration=None, baseline=False,
                      quiz_file=SHARED / "accept" / "sample_quiz.gift",
                      key_file=SHARED / "accept" / "sample_quiz.key.json", workdir=tmp_path)
    report = run_burst(cfg)

    assert report.workers == (4 if KIND == "postgres" else 2)
    assert report.killed, "no gunicorn worker was killed"
    assert report.problems == [], report.table()
    assert report.completed == 40
    assert report.answers_acked == report.answers_found == 40 * 6
    assert report.missing == 0 and report.duplicates == 0 and report.five_xx == 0
    assert report.graded_once == report.submitted == 40
    assert report.locked_client == report.locked_log == 0


@pytest.mark.nginx
@pytest.mark.skipif(KIND != "postgres", reason="app servers on several machines share PostgreSQL, not a SQLite file")
def test_two_app_servers_behind_nginx_lose_nothing_when_one_is_killed(tmp_path: Path) -> None:
    """Two gunicorn masters sharing PostgreSQL, Redis and the secret key behind Debian's nginx
    (deploy/nginx-lms.conf); one whole server (master and workers) is SIGKILLed a third of the way
    through. Only requests in flight on it may see a 5xx (nginx does not resend a POST)."""
    cfg = BurstConfig(kind=KIND, learners=30, concurrency=16, servers=2, kill_servers=1, redis_url=REDIS_URL,
                      duration=None, baseline=False, quiz_file=SHARED / "accept" / "sample_quiz.gift",
                      key_file=SHARED / "accept" / "sample_quiz.key.json", workdir=tmp_path)
    report = run_burst(cfg)

    assert report.servers == 2 and report.workers == 2
    assert len(report.server_kills) == 1, "no app server was killed"
    assert report.problems == [], report.table()
    assert report.completed == 30
    assert report.answers_acked == report.answers_found == 30 * 6
    assert report.missing == 0 and report.duplicates == 0
    assert report.five_xx == report.five_xx_at_kill, report.table()
    assert report.graded_once == report.submitted == 30
    assert report.locked_client == report.locked_log == 0
    assert report.proxy and "killed" in report.proxy[0], report.table()
