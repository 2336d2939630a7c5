"""Geometry for the manager's charts, drawn as inline SVG by the templates: axes with labelled
ticks, a legend, a named target line. Server-rendered so that they print, work without
JavaScript and stay readable at 360 px (the viewBox is about a phone's width, so 12-unit text is
about 12 px on screen). Numbers are formatted by Babel in the reader's language."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import format_decimal

__all__ = ["bar_chart", "line_chart"]

BAR_LEFT, BAR_RIGHT = 12.0, 308.0


def _x_of(percent: float) -> float:
    return round(BAR_LEFT + (BAR_RIGHT - BAR_LEFT) * max(0.0, min(100.0, percent)) / 100.0, 1)


def bar_chart(percent: float | None, target: float) -> dict[str, Any]:
    """One indicator: a bar from 0 to its percent on a 0-100% axis, and the target as a line."""
    target_x = _x_of(target)
    return {"width": 320, "height": 58, "bar_x": BAR_LEFT, "bar_w": round(_x_of(percent or 0.0) - BAR_LEFT, 1),
            "target_x": target_x, "target_anchor": "end" if target_x > 160 else "start",
            "target_label_x": target_x - 3 if target_x > 160 else target_x + 3,
            "ticks": [{"x": _x_of(p), "label": f"{p}%",
                       "anchor": "start" if p == 0 else "end" if p == 100 else "middle"} for p in (0, 25, 50, 75, 100)]}


def _nice_top(value: float) -> int:
    """The axis' top: 1, 2 or 5 times a power of ten, at least the largest value."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return int(step * power)
    return int(10 * power)


def line_chart(months: Sequence[Mapping[str, Any]], series: list[tuple[str, str]]) -> dict[str, Any]:
    """Cumulative counts per month: `series` is (key, label) pairs, drawn as lines over months 1-12."""
    left, right, top, bottom = 44.0, 330.0, 12.0, 170.0
    peak = _nice_top(max([float(m[key]) for m in months for key, _ in series] + [1.0]))

    def x(month: int) -> float:
        return round(left + (right - left) * (month - 1) / 11, 1)

    def y(value: float) -> float:
        return round(bottom - (bottom - top) * value / peak, 1)

    styles = [("#1d4f91", ""), ("#a30d12", "6 4")]
    lines = [{"label": label, "color": styles[i % 2][0], "dash": styles[i % 2][1],
              "points": " ".join(f"{x(m['month'])},{y(float(m[key]))}" for m in months)}
             for i, (key, label) in enumerate(series)]
    ticks = [{"y": y(v), "label": format_decimal(v, "#,##0")} for v in (0, peak / 2, peak) if v == int(v)]
    return {"width": 340, "height": 236, "left": left, "right": right, "top": top, "bottom": bottom, "lines": lines,
            "y_ticks": ticks, "x_ticks": [{"x": x(m), "label": str(m)} for m in range(1, 13)],
            "legend_y": 214}
