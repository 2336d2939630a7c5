"""What one exchange with PostgreSQL costs the machine, apart from the statement's own work: a
``SELECT 1`` in autocommit mode (one round trip) against the same inside BEGIN ... COMMIT (three),
the client's CPU (this process: psycopg and the kernel's loopback) and the server's (the backend's
CPU from /proc), per statement. What a round trip cut from the quiz's hot path can save
(bench/README.md, "Findings of 5 December 2026").

Run: .venv/bin/python bench/round_trip.py [N]   (LMS_TEST_PG_ADMIN: the server, as for the tests)
"""

from __future__ import annotations

import os
import resource
import sys
import time

import psycopg

SERVER = os.environ.get("LMS_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def main(n: int) -> None:
    with psycopg.connect(SERVER, autocommit=True) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        backend = row[0]

        def server_cpu() -> float:
            with open(f"/proc/{backend}/stat") as stat:  # the backend runs on this machine
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        def client_cpu() -> float:
            used = resource.getrusage(resource.RUSAGE_SELF)
            return used.ru_utime + used.ru_stime

        for label, autocommit in (("SELECT 1, autocommit (1 round trip)", True),
                                  ("BEGIN; SELECT 1; COMMIT (3 round trips)", False)):
            conn.autocommit = autocommit
            c0, s0, t0 = client_cpu(), server_cpu(), time.perf_counter()
            for _ in range(n):
                conn.execute("SELECT 1").fetchone()
                if not autocommit:
                    conn.commit()
            wall = time.perf_counter() - t0
            print(f"{label}: {wall / n * 1e6:.1f} µs wall, client CPU {(client_cpu() - c0) / n * 1e6:.1f} µs, "
                  f"server CPU {(server_cpu() - s0) / n * 1e6:.1f} µs per statement")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
