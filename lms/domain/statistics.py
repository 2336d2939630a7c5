"""Item analysis of quiz questions, as Moodle's quiz statistics report offers it.

facility: the mean share of the marks learners earned on the question (0 hard .. 1 easy).
discrimination: the correlation between the question's score and the score on the rest of the
attempt (Pearson, in -1..1): a good question is answered better by those who do well overall.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["ItemStats", "correlation", "item_statistics"]


@dataclass(frozen=True)
class ItemStats:
    question_id: str
    text_html: str
    responses: int
    facility: float | None
    discrimination: float | None
    wrong_choices: tuple[tuple[str, int, float], ...]  # (choice html, times picked, share of responses)


def correlation(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def item_statistics(rows: Iterable[tuple[str, float, float, float, object]],
                    wrong_choices: Mapping[str, Mapping[str, str]],
                    titles: Mapping[str, str]) -> list[ItemStats]:
    """``rows``: (question id, score, max score, attempt total, response) per graded question."""
    per_q: dict[str, list[tuple[float, float, float, object]]] = defaultdict(list)
    for qid, score, max_score, total, response in rows:
        per_q[qid].append((score, max_score, total, response))
    out = []
    for qid in sorted(per_q, key=lambda q: (list(titles).index(q) if q in titles else 0, q)):
        data = per_q[qid]
        shares = [s / m for s, m, _, _ in data if m > 0]
        facility = sum(shares) / len(shares) if shares else None
        discrimination = correlation([s for s, _, _, _ in data], [t - s for s, _, t, _ in data])
        picks: Counter[str] = Counter()
        for _, _, _, response in data:
            chosen = response if isinstance(response, list) else [response]
            for c in chosen:
                if isinstance(c, str) and c in wrong_choices.get(qid, {}):
                    picks[c] += 1
        wrong = tuple((wrong_choices[qid][c], n, n / len(data)) for c, n in picks.most_common())
        out.append(ItemStats(qid, titles.get(qid, ""), len(data), facility, discrimination, wrong))
    return out
