"""A goal's progress over time, drawn on the server as inline SVG (no script, no chart library):
the points come from the goal's history (`GoalService.ListGoalChanges`, each change's
`progress` before and after), the geometry is computed here and the template draws it, with a
table of the same points as its text alternative."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

# The drawing's own units (the SVG scales to its box); the plot leaves room for the axis labels.
WIDTH, HEIGHT = 320, 120
LEFT, RIGHT, TOP, BOTTOM = 34, 8, 8, 8


@dataclass(frozen=True)
class Point:
    at: datetime
    progress: int


@dataclass(frozen=True)
class Chart:
    points: list[Point]
    # "x,y x,y ..." for the polyline, and each point's circle.
    polyline: str
    dots: list[tuple[float, float]]
    # The y of 0, 50 and 100 (grid lines and their labels).
    ticks: list[tuple[int, float]]


def progress_points(changes: list[tuple[datetime, str]]) -> list[Point]:
    """The progress after each change that set it (its creation first), oldest first.
    `changes`: (when, changes_json) as ListGoalChanges gives them; other fields are ignored."""
    points = []
    for at, raw in sorted(changes, key=lambda change: change[0]):
        try:
            what = json.loads(raw)
        except ValueError:
            continue
        progress = what.get("progress") if isinstance(what, dict) else None
        after = progress.get("after") if isinstance(progress, dict) else None
        if isinstance(after, int) and not isinstance(after, bool) and 0 <= after <= 100:
            points.append(Point(at, after))
    return points


def chart(points: list[Point]) -> Chart | None:
    """The drawing of `points` (None when there is nothing to draw). Times are spread over the
    width by their instants; a single point sits in the middle."""
    if not points:
        return None
    first, last = points[0].at, points[-1].at
    span = (last - first).total_seconds()
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM

    def x(at: datetime) -> float:
        if span <= 0:
            return LEFT + plot_width / 2
        return round(LEFT + plot_width * (at - first).total_seconds() / span, 1)

    def y(progress: int) -> float:
        return round(TOP + plot_height * (100 - progress) / 100, 1)

    dots = [(x(p.at), y(p.progress)) for p in points]
    return Chart(
        points=points,
        polyline=" ".join(f"{a},{b}" for a, b in dots),
        dots=dots,
        ticks=[(value, y(value)) for value in (0, 50, 100)],
    )
