"""A line chart as inline SVG: one circle per measurement on a time axis (dates placed by time, ticks at
whole hours, days, weeks or months), 0 to the largest value up y, and threshold lines: a dashed
vertical line at "now minus the duty's limit", left of which a run is too old to count.

No script and no library: the page must read the same in any browser, offline, years later.
"""

import html
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

WIDTH, HEIGHT = 600, 230
LEFT, RIGHT, TOP, BOTTOM = 78, 24, 18, 42  # room for the y labels on the left, the dates below
PASSED_COLOUR, FAILED_COLOUR, LINE_COLOUR, GRID_COLOUR = "#1f5fa8", "#c62828", "#9db7d5", "#dddddd"
THRESHOLD_COLOUR = "#b86e00"
MAX_TICKS = 7
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
# (step, label format): the first step that gives at most MAX_TICKS ticks over the span is used.
TICK_STEPS = [(HOUR, "%H:%M"), (3 * HOUR, "%m-%d %H:%M"), (6 * HOUR, "%m-%d %H:%M"), (12 * HOUR, "%m-%d %H:%M"),
              (DAY, "%m-%d"), (2 * DAY, "%m-%d"), (7 * DAY, "%Y-%m-%d"), (14 * DAY, "%Y-%m-%d")]
MONTH_STEPS = [1, 2, 3, 6, 12]
_MONDAY = datetime(1970, 1, 5, tzinfo=timezone.utc)  # weekly ticks fall on Mondays


@dataclass(frozen=True)
class Threshold:
    """A vertical line at `when` (now minus a limit) with its label: "limit 26.0 h"."""
    when: datetime
    label: str


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


def _month_ticks(lo: datetime, hi: datetime) -> tuple[list[datetime], str]:
    for months in MONTH_STEPS:
        index = lo.year * 12 + lo.month - 1
        index += (-index) % months
        ticks = []
        while True:
            when = datetime(index // 12, index % 12 + 1, 1, tzinfo=timezone.utc)
            if when > hi:
                break
            if when >= lo:
                ticks.append(when)
            index += months
        if len(ticks) <= MAX_TICKS:
            return ticks, "%Y-%m" if months < 12 else "%Y"
    return ticks[:: len(ticks) // MAX_TICKS + 1], "%Y"


def time_ticks(lo: datetime, hi: datetime) -> tuple[list[datetime], str]:
    """Whole hours, days, Mondays or months between lo and hi, at most MAX_TICKS, and their label format."""
    span = hi - lo
    for step, fmt in TICK_STEPS:
        if span / step <= MAX_TICKS - 1:
            origin = _MONDAY if step >= 7 * DAY else datetime(1970, 1, 1, tzinfo=timezone.utc)
            first = origin + -((origin - lo) // step) * step  # the first multiple of step at or after lo
            ticks = []
            while first <= hi:
                ticks.append(first)
                first += step
            return ticks, fmt
    return _month_ticks(lo, hi)


def line_chart(title: str, points: list[Point], value_text, *, start: datetime | None = None,
               end: datetime | None = None, thresholds: tuple[Threshold, ...] = ()) -> str:
    """The SVG of one chart (points in time order, joined by a line) on a time axis from the first point
    (or start, or the earliest threshold) to the last (or end: the page's "now"); refuses an empty series."""
    if not points:
        raise ValueError(f"chart {title!r} has no points")
    points = sorted(points, key=lambda p: p.when)
    top = max(p.value for p in points)
    lo = min([points[0].when] + [t.when for t in thresholds] + ([start] if start else []))
    hi = max([points[-1].when] + ([end] if end else []))
    first, last = lo.timestamp(), hi.timestamp()
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_at(when: datetime) -> float:
        return LEFT + (plot_w / 2 if last == first else (when.timestamp() - first) / (last - first) * plot_w)

    def x(p: Point) -> float:
        return x_at(p.when)

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
    ticks, fmt = ([lo], "%Y-%m-%d %H:%M") if last == first else time_ticks(lo, hi)
    axis_y = HEIGHT - BOTTOM
    parts.append(f'<line class="x-axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{axis_y}" y2="{axis_y}" stroke="#888"/>')
    for tick in ticks:
        tx = x_at(tick)
        parts.append(f'<line class="x-tick" x1="{tx:.1f}" x2="{tx:.1f}" y1="{TOP}" y2="{axis_y + 4}" '
                     f'stroke="{GRID_COLOUR}" data-when="{tick.isoformat()}"/>')
        parts.append(f'<text class="x-label" x="{tx:.1f}" y="{axis_y + 18}" text-anchor="middle" '
                     f'data-when="{tick.isoformat()}">{tick.strftime(fmt)}</text>')
    for limit in thresholds:
        lx = x_at(limit.when)
        parts.append(f'<line class="threshold" x1="{lx:.1f}" x2="{lx:.1f}" y1="{TOP}" y2="{axis_y}" '
                     f'stroke="{THRESHOLD_COLOUR}" stroke-width="2" stroke-dasharray="6 4" '
                     f'data-when="{limit.when.isoformat()}"><title>{html.escape(limit.label)}</title></line>')
        parts.append(f'<text class="threshold-label" x="{lx + 4:.1f}" y="{TOP + 12}" fill="{THRESHOLD_COLOUR}">'
                     f"{html.escape(limit.label)}</text>")
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
