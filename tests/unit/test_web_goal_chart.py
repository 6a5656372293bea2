"""A goal's progress chart on the coachee's page: the points come from its history (each
change's progress after it, oldest first), the drawing spans the plot whatever the dates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from gateway.web.charts import (
    BOTTOM,
    HEIGHT,
    LEFT,
    RIGHT,
    TOP,
    WIDTH,
    Point,
    chart,
    progress_points,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def change(**fields: tuple[object, object]) -> str:
    return json.dumps({k: {"before": b, "after": a} for k, (b, a) in fields.items()})


def test_the_points_are_the_progress_after_each_change_that_set_it_oldest_first() -> None:
    history = [
        (T0 + timedelta(days=9), change(progress=(40, 70))),
        (T0, change(title=(None, "Speak up"), progress=(None, 10))),
        (T0 + timedelta(days=2), change(title=("Speak up", "Speak up more"))),  # no progress
        (T0 + timedelta(days=5), change(progress=(10, 40))),
    ]
    assert progress_points(history) == [
        Point(T0, 10),
        Point(T0 + timedelta(days=5), 40),
        Point(T0 + timedelta(days=9), 70),
    ]


def test_unreadable_or_out_of_range_changes_are_left_out() -> None:
    history = [
        (T0, "not json"),
        (T0, json.dumps(["a list"])),
        (T0, change(progress=(0, 140))),
        (T0, change(progress=(0, True))),
        (T0, change(progress=(0, "50"))),
        (T0, json.dumps({"progress": 5})),
    ]
    assert progress_points(history) == []


def test_the_drawing_spans_the_plot_from_the_first_to_the_last_change() -> None:
    drawn = chart(
        [Point(T0, 0), Point(T0 + timedelta(days=1), 50), Point(T0 + timedelta(days=4), 100)]
    )
    assert drawn is not None
    xs = [x for x, _ in drawn.dots]
    ys = [y for _, y in drawn.dots]
    assert xs[0] == LEFT and xs[-1] == WIDTH - RIGHT
    assert xs[0] < xs[1] < xs[2]
    assert ys == [
        HEIGHT - BOTTOM,
        (TOP + HEIGHT - BOTTOM) / 2,
        TOP,
    ]  # 0 at the bottom, 100 at the top
    assert drawn.polyline == " ".join(f"{x},{y}" for x, y in drawn.dots)
    assert [value for value, _ in drawn.ticks] == [0, 50, 100]


def test_one_point_sits_in_the_middle_and_none_draws_nothing() -> None:
    single = chart([Point(T0, 30)])
    assert single is not None and single.dots[0][0] == LEFT + (WIDTH - LEFT - RIGHT) / 2
    assert chart([]) is None
