"""The summary figures that reports read, as pure functions of one person's or one class's facts.

Each person (and each in-person class) contributes a small multiset of counters keyed by
`FigureKey`. The store keeps, per contributor, the counters it last contributed and, per key,
their sum; when a contributor's facts change, the difference between the new and the old
contribution is added to the sums in the same transaction. A full rebuild sums every
contribution afresh, so "kept" and "rebuilt" figures can be compared.

Years and months are calendar periods in Asia/Ho_Chi_Minh (the caller converts)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["CertificateFact", "ClassFact", "FigureKey", "PersonFacts", "class_figures", "difference",
           "person_figures"]


class FigureKey(NamedTuple):
    metric: str
    unit_code: str
    year: int = 0  # 0: not tied to a year (a current state)
    month: int = 0
    course_id: str = ""
    group: str = ""  # the learner group: the holder's role
    birth_year: int = 0


@dataclass(frozen=True)
class CertificateFact:
    course_id: str
    year: int
    month: int
    unit_code: str | None  # the unit printed on the certificate when it was issued
    mandated: bool  # the course is the mandated officials' course
    online_services: bool  # the course is the citizens' online public services course
    revoked: bool


@dataclass(frozen=True)
class PersonFacts:
    role: str
    unit_code: str | None
    on_roster: bool  # an official listed on an agency's roster
    active: bool
    birth_year: int | None
    certificates: tuple[CertificateFact, ...] = ()
    activity_years: frozenset[int] = frozenset()  # years with a lesson done, a test submitted or a class
    team_communes: tuple[str, ...] = ()  # communes whose digital-technology team counts them as active


@dataclass(frozen=True)
class ClassFact:
    unit_code: str
    year: int
    month: int
    course_id: str
    attendees: int


def person_figures(p: PersonFacts) -> Counter[FigureKey]:
    """What one person adds to the figures.

    - ``officials``: an active official on a roster, in their unit (the denominator of
      officials_trained); ``officials_certified``: the same official, once per year in which they
      hold a valid certificate of the mandated course (it is valid for its training year).
    - ``citizens``: an active registered citizen, by birth year; ``citizens_certified``: once, in
      the year of their first valid certificate of the online public services course (it does not
      expire), by birth year, so a working-age range can be applied when reading.
    - ``team_members`` and ``team_certified``: per commune team they are active in, and whether
      they hold any valid certificate.
    - ``learners``: once per year in which they studied, were tested or attended a class.
    - ``certificates``: every valid certificate, by the unit on it, year, month, course and the
      holder's group. Revoked certificates count nowhere.
    """
    out: Counter[FigureKey] = Counter()
    valid = [c for c in p.certificates if not c.revoked]
    for c in valid:
        out[FigureKey("certificates", c.unit_code or p.unit_code or "", c.year, c.month, c.course_id, p.role)] += 1
    if not p.active or not p.unit_code:
        return +out
    unit = p.unit_code
    if p.role == "official" and p.on_roster:
        out[FigureKey("officials", unit)] += 1
        for year in sorted({c.year for c in valid if c.mandated}):
            out[FigureKey("officials_certified", unit, year)] += 1
    if p.role == "citizen":
        born = p.birth_year or 0
        out[FigureKey("citizens", unit, birth_year=born)] += 1
        years = [c.year for c in valid if c.online_services]
        if years:
            out[FigureKey("citizens_certified", unit, min(years), birth_year=born)] += 1
    for commune in sorted(set(p.team_communes)):
        out[FigureKey("team_members", commune)] += 1
        if valid:
            out[FigureKey("team_certified", commune)] += 1
    for year in sorted(p.activity_years | {c.year for c in valid}):
        out[FigureKey("learners", unit, year)] += 1
    return +out


def class_figures(c: ClassFact) -> Counter[FigureKey]:
    """An in-person class counts as one class held and as many participant-times as attendees."""
    out: Counter[FigureKey] = Counter()
    out[FigureKey("classes", c.unit_code, c.year, c.month, c.course_id)] += 1
    if c.attendees:
        out[FigureKey("participant_times", c.unit_code, c.year, c.month, c.course_id)] += c.attendees
    return out


def difference(before: Counter[FigureKey], after: Counter[FigureKey]) -> dict[FigureKey, int]:
    """The change to add to the kept sums, without zero entries."""
    keys = set(before) | set(after)
    return {k: after[k] - before[k] for k in sorted(keys) if after[k] != before[k]}
