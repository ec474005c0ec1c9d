"""rclone's own one-line stats (commands/rclone.STATS_FLAGS) shown live while a copy runs; the last
line of each copy kept as its final figures for the report.

rclone's one-line stats read `0 B / 0 B, -, 0 B/s, ETA -` while it is still comparing (and at the end
of a copy that had nothing to send), and `0 B/s, ETA -` in every line of the first seconds (its rate is a
moving average that needs samples): neither is shown as such. A copy with nothing to send says so once
it ends; a rate rclone has not worked out yet is the bytes so far over the seconds since the copy began.
"""

import re
import time
from dataclasses import dataclass

from .. import progress
from ..progress import UNITS, human
from ..runner import Completed

# rclone 1.60, e.g. "2026/12/02 04:29:16 NOTICE:     6.123 MiB / 11.444 MiB, 54%, 3.132 MiB/s, ETA 1s (xfr#19/40)"
_STATS = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d NOTICE: +(?P<stats>(?P<done>\d[\d.]* \S*B) / "
                    r"(?P<total>\d[\d.]* \S*B), (?P<percent>\d+%|-), (?P<speed>\d[\d.]* \S+)/s, "
                    r"ETA (?P<eta>\S+)(?P<rest>.*))$")
# rclone's first periodic line comes after --stats (5 s): an empty one before that is the copy's last.
COMPARING_SHOWN_AFTER = 4.0


def stats_of(line: str) -> re.Match | None:
    """rclone's stats in one of its log lines; None for any other line (errors, notices)."""
    return _STATS.match(line)


def size_in_bytes(text: str) -> int:
    """rclone's size text ("57.235 MiB", "0 B") in bytes (to rclone's three decimals)."""
    number, unit = text.split()
    if unit not in UNITS:
        raise ValueError(f"rclone size {text!r} has a unit this suite does not know ({', '.join(UNITS)})")
    return round(float(number) * UNITS[unit])


def duration(seconds: float) -> str:
    """An ETA as rclone writes it: "42s", "3m5s", "1h2m3s"."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return (f"{hours}h{minutes}m{secs}s" if hours else f"{minutes}m{secs}s" if minutes else f"{secs}s")


@dataclass(frozen=True)
class Stats:
    """One stats line in bytes; speed in bytes a second, 0 where rclone has none yet."""

    done: int
    total: int
    speed: float
    percent: str  # rclone's own ("54%", "-"), rounded as rclone rounds it
    eta: str
    rest: str  # rclone's "(xfr#19/40)" when transfers are in flight, else ""

    @classmethod
    def of(cls, found: re.Match) -> "Stats":
        return cls(size_in_bytes(found["done"]), size_in_bytes(found["total"]), size_in_bytes(found["speed"]),
                   found["percent"], found["eta"], found["rest"].strip())

    @property
    def nothing_to_send(self) -> bool:
        return self.total == 0

    def with_rate_since(self, seconds: float) -> "Stats":
        """These stats with the rate since the copy began (and the ETA at that rate) where rclone gave none."""
        if self.speed or not self.done or seconds <= 0:
            return self
        speed = self.done / seconds
        eta = duration((self.total - self.done) / speed) if self.total > self.done else "0s"
        return Stats(self.done, self.total, speed, self.percent, eta, self.rest)

    def text(self) -> str:
        return (f"{human(self.done)} / {human(self.total)}, {self.percent}, {human(self.speed)}/s, ETA {self.eta}"
                + (f" {self.rest}" if self.rest else ""))


class Transfer:
    """The rclone copies of one step: each copy's stats shown live as '<step> <what>: <stats>', its
    last ones kept in `copies` (bytes copied of the total, speed, seconds)."""

    def __init__(self, step: str):
        self.step = step
        self.copies: list[dict] = []
        self._what = ""
        self._started = 0.0
        self._last: Stats | None = None

    def copy(self, box, what: str, argv: list[str], **kwargs) -> Completed:
        """Run one rclone copy in the backup container, its stats shown live; raises as box.run does."""
        self._what, self._last, self._started = what, None, time.monotonic()
        done = box.run(argv, limit="copy", progress=self._line, **kwargs)
        last = self._last.with_rate_since(done.seconds) if self._last else None
        if last and last.nothing_to_send:
            progress.show(f"{self.step} {what}: nothing to send, every one is there already")
        final = ({"transferred": human(last.done), "of": human(last.total), "speed": f"{human(last.speed)}/s"}
                 if last else {"transferred": "", "of": "", "speed": ""})
        self.copies.append({"copy": what, **final, "seconds": round(done.seconds, 1)})
        return done

    def _line(self, line: str) -> None:
        found = stats_of(line)
        if not found:
            return
        self._last = Stats.of(found)
        elapsed = time.monotonic() - self._started
        if self._last.nothing_to_send:  # still comparing; the end of the copy says when nothing was sent
            if elapsed >= COMPARING_SHOWN_AFTER:
                progress.show(f"{self.step} {self._what}: comparing with the remote, nothing to send yet "
                              f"({duration(elapsed)})")
            return
        stats = self._last.with_rate_since(elapsed)
        progress.show(f"{self.step} {self._what}: {stats.text()}")
