"""The deadline burst (bench/burst.py) at a small size: 40 learners against a real gunicorn on
the database chosen by LMS_TEST_DATABASE, with one worker killed by SIGKILL mid-run. Nothing may
be lost, graded twice or answered with a 5xx. Figures are the benchmark's business, not this
test's: no timing is asserted."""

from __future__ import annotations

from pathlib import Path

from bench.burst import BurstConfig, run_burst
from tests.conftest import KIND
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
