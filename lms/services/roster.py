"""Import officials from a roster: validate every row first, store nothing if any is wrong,
and re-importing the same file changes nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.content.roster import RosterRow, read_roster
from lms.domain.accounts import login_kind
from lms.domain.text import nfc, normalise_login
from lms.services import audit
from lms.store import Agency, Role, Unit, User

__all__ = ["UNUSABLE_PASSWORD", "RosterResult", "import_roster"]

UNUSABLE_PASSWORD = "!roster"  # no password matches it: an official sets one before logging in


@dataclass
class RosterResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class RosterError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _shown(value: str) -> str:
    """A cell quoted in a one-line message: control characters written as escapes, long text cut."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    return text if len(text) <= 60 else text[:57] + "..."


def _validate(session: Session, name: str, rows: list[RosterRow]) -> list[str]:
    problems = []
    units = {u for u in session.scalars(select(Unit.code))}
    seen: dict[str, int] = {}
    for r in rows:
        v = {k: nfc(val) for k, val in r.values.items()}  # checked as they will be stored
        bad = {col for col, val in v.items() if _CONTROL.search(val)}
        for col in sorted(bad, key=list(v).index):
            # A line break or tab in a cell is a mistake; PostgreSQL cannot even store a NUL.
            problems.append(f"{name}:{r.row}:{col}: '{_shown(v[col])}' contains a control character "
                            "(line break, tab or NUL); remove it")
        if not v.get("full_name"):
            problems.append(f"{name}:{r.row}:full_name: full name is empty")
        elif len(v["full_name"]) > 200:
            problems.append(f"{name}:{r.row}:full_name: full name is longer than 200 characters")
        login = v.get("login", "")
        if "login" in bad:
            pass
        elif not login:
            problems.append(f"{name}:{r.row}:login: login is empty")
        elif login_kind(login) is None:
            problems.append(f"{name}:{r.row}:login: '{_shown(login)}' is neither an e-mail address nor a mobile number")
        elif normalise_login(login) in seen:
            problems.append(f"{name}:{r.row}:login: '{_shown(login)}' is already on row "
                            f"{seen[normalise_login(login)]}")
        else:
            seen[normalise_login(login)] = r.row
        if "unit_code" not in bad and v.get("unit_code") not in units:
            problems.append(f"{name}:{r.row}:unit_code: unknown unit code '{_shown(v.get('unit_code', ''))}'")
        if not v.get("agency"):
            problems.append(f"{name}:{r.row}:agency: agency is empty")
        elif len(v["agency"]) > 200:
            problems.append(f"{name}:{r.row}:agency: agency is longer than 200 characters")
        if len(v.get("position", "")) > 200:
            problems.append(f"{name}:{r.row}:position: position is longer than 200 characters")
    return problems


def import_roster(session: Session, path: Path, *, now: datetime) -> RosterResult:
    """Raises RosterError (every problem, nothing stored) when the file has an error."""
    rows, problems = read_roster(path)
    problems = problems or _validate(session, str(path), rows)
    if problems:
        raise RosterError(problems)
    result = RosterResult()
    agencies: dict[tuple[str, str], Agency] = {}
    for r in rows:
        v = {k: nfc(val) for k, val in r.values.items()}
        key = (v["unit_code"], v["agency"])
        agency = agencies.get(key) or session.scalar(select(Agency).where(Agency.unit_code == key[0],
                                                                          Agency.name == key[1]))
        if agency is None:
            agency = Agency(unit_code=key[0], name=key[1])
            session.add(agency)
            session.flush()
        agencies[key] = agency
        login = normalise_login(v["login"])
        user = session.scalar(select(User).where(User.login == login))
        position = v.get("position") or None
        if user is None:
            session.add(User(login=login, full_name=v["full_name"], password_hash=UNUSABLE_PASSWORD,
                             role=Role.OFFICIAL.value, unit_code=v["unit_code"], agency_id=agency.id,
                             position=position, created_at=now, credentials_version=1, is_active=True))
            result.created += 1
            continue
        wanted = (v["full_name"], Role.OFFICIAL.value, v["unit_code"], agency.id, position)
        if (user.full_name, user.role, user.unit_code, user.agency_id, user.position) == wanted:
            result.unchanged += 1
            continue
        if user.role != Role.OFFICIAL:
            audit.record(session, "user.role", "user", user.id, now=now, old=user.role, new=Role.OFFICIAL.value)
        user.full_name, user.role, user.unit_code, user.agency_id, user.position = wanted
        result.updated += 1
    audit.record(session, "roster.import", "roster", path.name, now=now, created=result.created,
                 updated=result.updated, unchanged=result.unchanged)
    session.flush()
    return result
