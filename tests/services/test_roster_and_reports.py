from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.services import accounts, certificates
from lms.services.roster import RosterError, import_roster
from lms.store import Course, User
from tests import factories
from tests.factories import now

HEADER = ["full_name", "login", "unit_code", "agency", "position"]
ROWS = [["Nguyễn Văn An", "cb.an@vinhlong.gov.vn", "28756", "UBND Phường Phú Khương", "Công chức"],
        ["Trần Thị Bích", "cb.bich@vinhlong.gov.vn", "29143", "UBND Xã An Ngãi Trung", "Chủ tịch"],
        ["Phạm Quốc Duy", "cb.duy@dongnai.gov.vn", "25195", "UBND Phường Bình Phước", "Phó Chủ tịch"]]


def _csv(tmp_path: Path, rows: list[list[str]], name: str = "roster.csv") -> Path:
    path = tmp_path / name
    lines = [",".join(HEADER)] + [",".join(r) for r in rows]
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))  # Excel's CSV: BOM and CRLF
    return path


def _xlsx(tmp_path: Path, rows: list[list[str]]) -> Path:
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    for r in rows:
        book.active.append(r)
    path = tmp_path / "roster.xlsx"
    book.save(path)
    return path


def _officials(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User).where(User.role == "official",
                                                                       User.agency_id.is_not(None))) or 0


def test_roster_errors_name_row_and_column_and_store_nothing(session: Session, tmp_path: Path) -> None:
    before = _officials(session)
    bad = _csv(tmp_path, [ROWS[0], ["", "x@vinhlong.gov.vn", "12345", "UBND", ""], ROWS[0]])
    with pytest.raises(RosterError) as exc:
        import_roster(session, bad, now=now())
    assert exc.value.problems == [f"{bad}:3:full_name: full name is empty",
                                  f"{bad}:3:unit_code: unknown unit code '12345'",
                                  f"{bad}:4:login: 'cb.an@vinhlong.gov.vn' is already on row 2"]
    assert _officials(session) == before


def test_xlsx_then_the_same_csv_changes_nothing(session: Session, tmp_path: Path) -> None:
    first = import_roster(session, _xlsx(tmp_path, ROWS), now=now())
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    again = import_roster(session, _csv(tmp_path, ROWS), now=now())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    moved = [[*ROWS[0][:4], "Trưởng phòng"], *ROWS[1:]]
    changed = import_roster(session, _csv(tmp_path, moved, "v2.csv"), now=now())
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 2)
    official = session.scalar(select(User).where(User.login == "cb.an@vinhlong.gov.vn"))
    assert official is not None and official.agency is not None and official.agency.unit_code == "28756"
    assert accounts.authenticate(session, official.login, "!roster") is None  # no password until one is set


def _manager(session: Session, unit: str) -> dict[str, str]:
    return factories.bearer(factories.token(session, factories.user(session, role="manager", unit_code=unit)))


def test_report_is_scoped_and_moves_with_certificates(client: FlaskClient, session: Session, tmp_path: Path) -> None:
    vinh_long, dong_nai = _manager(session, "86"), _manager(session, "75")
    session.commit()
    year = now().year
    url = f"/api/v1/reports/targets?unit=86&year={year}"
    assert client.get(url, headers=dong_nai).status_code == 403
    assert client.get(url, headers=factories.bearer(factories.token(session, factories.user(session)))).status_code \
        in (401, 403)
    before = {i["id"]: i for i in client.get(url, headers=vinh_long).json["indicators"]}
    assert set(before) == {"officials_trained", "citizens_online_services", "communes_with_team"}
    assert before["communes_with_team"]["denominator"] == 124
    import_roster(session, _csv(tmp_path, ROWS), now=now())
    citizen = factories.user(session)
    online = session.get(Course, "dich-vu-cong")
    mandated = session.get(Course, "chuyen-doi-so-can-bo")
    assert online is not None and mandated is not None
    certificates.issue(session, citizen, online, now=now(), source="online")
    official = session.scalar(select(User).where(User.login == "cb.bich@vinhlong.gov.vn"))
    assert official is not None
    certificates.issue(session, official, mandated, now=now(), source="in_person")
    session.commit()
    after = {i["id"]: i for i in client.get(url, headers=vinh_long).json["indicators"]}
    assert after["officials_trained"]["denominator"] == before["officials_trained"]["denominator"] + 2  # not Đồng Nai's
    assert after["officials_trained"]["numerator"] == before["officials_trained"]["numerator"] + 1
    assert after["citizens_online_services"]["numerator"] == before["citizens_online_services"]["numerator"] + 1
    ind = after["citizens_online_services"]
    assert ind["percent"] == round(100 * ind["numerator"] / ind["denominator"], 1)
    commune = client.get(f"/api/v1/reports/targets?unit=28756&year={year}", headers=vinh_long)
    assert commune.status_code == 200  # a province's manager sees its communes
    assert client.get("/api/v1/reports/targets?unit=86&year=abc", headers=vinh_long).status_code == 400
