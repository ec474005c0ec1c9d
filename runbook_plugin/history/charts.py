"""A line chart as inline SVG: one circle per measurement, time along x, 0 to the largest value up y.

No script and no library: the page must read the same in any browser, offline, years later.
"""

import html
from dataclasses import dataclass
from datetime import datetime

WIDTH, HEIGHT = 600, 230
LEFT, RIGHT, TOP, BOTTOM = 78, 24, 18, 42  # room for the y labels on the left, the dates below
PASSED_COLOUR, FAILED_COLOUR, LINE_COLOUR, GRID_COLOUR = "#1f5fa8", "#c62828", "#9db7d5", "#dddddd"


@dataclass(frozen=True)
class Point:
    when: datetime
    value: float
    failed: bool
    about: str  # the run, for the point's tooltip: "backup, passed"


def bytes_text(value: float) -> str:
    """1536 -> "1.5 KiB": binary units, as du -h and rclone show sizes."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def seconds_text(value: float) -> str:
    """42.3 -> "42.3 s", 200 -> "3.3 min", 7200 -> "2.0 h"."""
    if value < 120:
        return f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def count_text(value: float) -> str:
    """3 -> "3", 1.5 (half of an axis) -> "1.5"."""
    return f"{value:g}"


def line_chart(title: str, points: list[Point], value_text, date_format: str = "%Y-%m-%d") -> str:
    """The SVG of one chart (points in time order, joined by a line); refuses an empty series."""
    if not points:
        raise ValueError(f"chart {title!r} has no points")
    points = sorted(points, key=lambda p: p.when)
    top = max(p.value for p in points)
    first, last = points[0].when.timestamp(), points[-1].when.timestamp()
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(p: Point) -> float:
        return LEFT + (plot_w / 2 if last == first else (p.when.timestamp() - first) / (last - first) * plot_w)

    def y(value: float) -> float:
        return TOP + plot_h - (value / top * plot_h if top else 0)

    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{html.escape(title)}">',
             f"<title>{html.escape(title)}</title>"]
    for value in sorted({0, top / 2, top}):
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     f'stroke="{GRID_COLOUR}"/>')
        parts.append(f'<text class="y-label" x="{LEFT - 8}" y="{y(value) + 4:.1f}" text-anchor="end">'
                     f"{html.escape(value_text(value))}</text>")
    dates = [points[0]] if last == first else [points[0], points[-1]]
    for p, anchor in zip(dates, ["middle"] if len(dates) == 1 else ["start", "end"]):
        parts.append(f'<text class="x-label" x="{x(p):.1f}" y="{HEIGHT - BOTTOM + 20}" text-anchor="{anchor}">'
                     f"{p.when.strftime(date_format)}</text>")
    if len(points) > 1:
        line = " ".join(f"{x(p):.1f},{y(p.value):.1f}" for p in points)
        parts.append(f'<polyline class="trend" points="{line}" fill="none" stroke="{LINE_COLOUR}" stroke-width="2"/>')
    for p in points:
        colour = FAILED_COLOUR if p.failed else PASSED_COLOUR
        tip = f"{p.when:%Y-%m-%d %H:%M} UTC: {value_text(p.value)} ({p.about})"
        parts.append(f'<circle class="point{" failed" if p.failed else ""}" cx="{x(p):.1f}" cy="{y(p.value):.1f}" '
                     f'r="5" fill="{colour}" data-value="{p.value}" data-when="{p.when.isoformat()}">'
                     f"<title>{html.escape(tip)}</title></circle>")
    parts.append("</svg>")
    return "\n".join(parts)
