"""Geometry for the report's server-side SVG charts (the templates draw them).

Only numbers and labels leave this module; the Jinja templates turn them into SVG, so every
label is escaped like the rest of the page and the report needs no JavaScript library.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float | None
    label: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    bottom: int
    points: list[Point]
    y_ticks: list[tuple[float, str]]  # (y, label)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points if p.value is not None)


def line_chart(values: list[float | None], labels: list[str], width: int = 640, height: int = 220,
               y_max: float = 100.0, unit: str = "") -> LineChart:
    """Points spread evenly over the x axis, y from 0 to y_max; None leaves a gap (unit not in that run)."""
    left, right, top, bottom = 44, 16, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(values) - 1, 1)
    points = [
        Point(x=left + (i * step if len(values) > 1 else plot_w / 2),
              y=top + plot_h * (1 - (v or 0) / y_max), value=v, label=label)
        for i, (v, label) in enumerate(zip(values, labels))
    ]
    ticks = [(top + plot_h * (1 - f), f"{f * y_max:.0f}{unit}") for f in (0, 0.25, 0.5, 0.75, 1)]
    return LineChart(width=width, height=height, left=left, bottom=height - bottom, points=points, y_ticks=ticks)


def sparkline(values: list[float | None], width: int = 90, height: int = 22, y_max: float = 100.0) -> str:
    """`points` for an SVG polyline of a unit's scores across runs (runs without the unit are skipped)."""
    present = [(i, v) for i, v in enumerate(values) if v is not None]
    if not present:
        return ""
    step = (width - 4) / max(len(values) - 1, 1)
    return " ".join(f"{2 + i * step:.1f},{2 + (height - 4) * (1 - v / y_max):.1f}" for i, v in present)
