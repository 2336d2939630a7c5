"""The unit of work: its hooks are wired when the LMS's sessionmaker is built, on that maker's
own session class, never at import; work for after the commit runs once the outermost
transaction has committed, and never after a rollback."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from lms.services.unit_of_work import after_commit, make_sessionmaker
from lms.store import LmsSession


def test_importing_every_lms_module_registers_no_sqlalchemy_event() -> None:
    script = textwrap.dedent("""
        import importlib, pkgutil
        import lms
        for mod in pkgutil.walk_packages(lms.__path__, "lms."):
            importlib.import_module(mod.name)
        import lms.services.figures as figures
        from sqlalchemy import event
        from sqlalchemy.orm import Session
        from lms.store import LmsSession
        from lms.store import engine
        hooks = [("after_flush", engine._flushed), ("before_commit", engine._before_commit),
                 ("after_commit", engine._after_commit), ("after_soft_rollback", engine._after_rollback)]
        names = ("after_flush", "before_commit", "after_commit", "after_soft_rollback", "before_flush")
        for cls in (Session, LmsSession):
            for name, fn in hooks:
                assert not event.contains(cls, name, fn), (cls.__name__, name)
            heard = [n for n in names if getattr(cls().dispatch, n)]  # a session's own listeners
            assert heard == [], (cls.__name__, heard)
        assert not hasattr(figures, "_before_commit")
        from lms.services.unit_of_work import make_sessionmaker
        maker = make_sessionmaker("sqlite://")
        assert event.contains(maker.class_, "before_commit", engine._before_commit)
        assert all(getattr(maker().dispatch, n) for n in names[:4])
        for cls in (Session, LmsSession):  # still nothing on the shared classes
            assert not [n for n in names if getattr(cls().dispatch, n)], cls.__name__
        print("clean")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "clean"


def test_after_commit_runs_once_after_the_outermost_commit(connection: Connection) -> None:
    session = make_sessionmaker(connection, join_transaction_mode="create_savepoint")()
    ran: list[str] = []
    session.begin()
    after_commit(session, lambda: ran.append("a"))
    after_commit(session, lambda: ran.append("wake"), key="wake")
    after_commit(session, lambda: ran.append("wake again"), key="wake")  # one is enough
    with session.begin_nested():
        after_commit(session, lambda: ran.append("b"))
    assert ran == []  # a savepoint released commits nothing
    session.commit()
    assert ran == ["a", "wake", "b"]
    session.commit()  # a later, empty transaction runs nothing again
    assert ran == ["a", "wake", "b"]
    session.close()


def test_after_commit_work_is_dropped_on_rollback(connection: Connection) -> None:
    session = make_sessionmaker(connection, join_transaction_mode="create_savepoint")()
    ran: list[str] = []
    session.begin()
    after_commit(session, lambda: ran.append("lost"))
    session.rollback()
    session.begin()
    session.commit()
    assert ran == []
    session.close()


def test_after_commit_refuses_a_session_without_the_unit_of_work(connection: Connection) -> None:
    import pytest

    for bare in (Session(bind=connection), LmsSession(bind=connection)):
        with pytest.raises(TypeError):
            after_commit(bare, lambda: None)
        bare.close()
