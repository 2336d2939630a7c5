"""Plans as data and the working-age population managers enter."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.config import PROJECT_ROOT
from lms.services import plans, reports
from lms.services.errors import Forbidden, Invalid
from lms.store import Plan, UnitPopulation
from tests import factories
from tests.factories import now

EXAMPLE = PROJECT_ROOT / "docs" / "examples" / "plan-vinh-long.toml"


def test_default_plan_is_stored_once_and_used_everywhere(session: Session) -> None:
    assert plans.ensure_default_plan(session, now=now()) is False  # already there from db upgrade
    spec = plans.plan_for(session, "25195")  # a commune of Đồng Nai
    assert spec.slug == "mac-dinh"
    assert [i.id for i in spec.indicators] == ["officials_trained", "citizens_online_services", "communes_with_team"]


def test_a_provinces_own_plan_applies_to_it_and_its_communes_only(session: Session) -> None:
    plan = plans.import_plan(session, EXAMPLE, now=now())
    assert plan.unit_code == "86" and len(plan.indicators) == 4
    spec = plans.plan_for(session, "28756")
    assert spec.slug == "vinh-long-2026" and spec.working_age_max == 60 and spec.team_min_certified == 5
    citizens = next(i for i in spec.indicators if i.id == "citizens_online_services")
    assert citizens.target_for(2026) == 80.0 and citizens.target_for(2028) == 95.0
    assert plans.plan_for(session, "25195").slug == "mac-dinh"
    manager = factories.user(session, role="manager", unit_code="86")
    report = reports.full_report(session, manager, "86", 2026, with_units=False)
    assert report.plan.slug == "vinh-long-2026"
    assert {r.id: r.target_percent for r in report.indicators}["citizens_online_services"] == 80.0
    again = plans.import_plan(session, EXAMPLE, now=now())  # the same file again replaces, never duplicates
    assert again.id == plan.id and len(again.indicators) == 4


def test_a_broken_plan_is_refused_with_its_problems_and_nothing_stored(session: Session, tmp_path: Path) -> None:
    before = session.scalar(select(func.count()).select_from(Plan))
    bad = tmp_path / "plan.toml"
    bad.write_text('slug = "x"\ntitle = "X"\nissuing_body = "UBND"\ndecision_number = "1"\nstart_year = 2030\n'
                   'end_year = 2026\nunit_code = "28756"\n[[indicators]]\nid = "vui_ve"\nlabel = ""\n'
                   'targets = [{ deadline = "mai", percent = 140 }]\n', encoding="utf-8")
    with pytest.raises(Invalid) as caught:
        plans.import_plan(session, bad, now=now())
    problems = "\n".join(caught.value.fields.values())
    for words in ("start_year", "not a province", "id must be one of", "label is missing", "deadline"):
        assert words in problems
    assert all(p.startswith(str(bad)) for p in caught.value.fields.values())
    broken = tmp_path / "broken.toml"
    broken.write_text('slug = "x"\ntitle = \n', encoding="utf-8")
    with pytest.raises(Invalid) as syntax:
        plans.import_plan(session, broken, now=now())
    assert next(iter(syntax.value.fields.values())).startswith(f"{broken}:2:")
    assert session.scalar(select(func.count()).select_from(Plan)) == before


def test_population_import_checks_every_row_first(session: Session, tmp_path: Path) -> None:
    manager = factories.user(session, role="manager", unit_code="86")
    bad = tmp_path / "dan-so.csv"
    bad.write_text("unit_code,year,working_age\n28756,2026,12.500\n99999,2026,10\n28756,20x6,5\n25195,2026,7\n"
                   "28756,2026,1\n", encoding="utf-8")
    with pytest.raises(Invalid) as caught:
        plans.import_populations(session, manager, bad, now=now())
    found = sorted(caught.value.fields.values())
    assert f"{bad}:3:unit_code: unknown unit code '99999'" in found
    assert any(p.startswith(f"{bad}:4:year:") for p in found)
    assert any(p.startswith(f"{bad}:5:unit_code:") and "outside" in p for p in found)
    assert any(p.startswith(f"{bad}:6:unit_code:") and "row 2" in p for p in found)
    assert session.scalar(select(func.count()).select_from(UnitPopulation)) == 0
    good = tmp_path / "tot.csv"
    good.write_text("year,unit_code,working_age,source\n2026,28756,12.500,Cục Thống kê\n2026,86,700000,\n",
                    encoding="utf-8")
    assert plans.import_populations(session, manager, good, now=now(), dry_run=True).stored == 2
    assert session.scalar(select(func.count()).select_from(UnitPopulation)) == 0
    assert plans.import_populations(session, manager, good, now=now()).stored == 2
    assert plans.import_populations(session, manager, good, now=now()).unchanged == 2
    assert plans.population(session, ["28756"], 2027) == 12500  # the latest figure not after the year
    assert plans.population(session, ["86", "28756"], 2026) == 700000  # the province's own figure wins
    with pytest.raises(Forbidden):
        plans.set_population(session, manager, "25195", 2026, 10, source="", now=now())
