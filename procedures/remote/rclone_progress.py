"""rclone's own one-line stats (commands/rclone.STATS_FLAGS) shown live while a copy runs; the last
line of each copy kept as its final figures for the report."""

import re

from .. import progress
from ..runner import Completed

# rclone 1.60, e.g. "2026/12/02 04:29:16 NOTICE:     6.123 MiB / 11.444 MiB, 54%, 3.132 MiB/s, ETA 1s (xfr#19/40)"
_STATS = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d NOTICE: +(?P<stats>(?P<done>\d[\d.]* \S*B) / "
                    r"(?P<total>\d[\d.]* \S*B), (?:\d+%|-), (?P<speed>\d[\d.]* \S+/s), ETA .*)$")


def stats_of(line: str) -> re.Match | None:
    """rclone's stats in one of its log lines; None for any other line (errors, notices)."""
    return _STATS.match(line)


class Transfer:
    """The rclone copies of one step: each copy's stats shown live as '<step> <what>: <stats>', its
    last ones kept in `copies` (bytes copied of the total, speed, seconds)."""

    def __init__(self, step: str):
        self.step = step
        self.copies: list[dict] = []
        self._what = ""
        self._last: re.Match | None = None

    def copy(self, box, what: str, argv: list[str], **kwargs) -> Completed:
        """Run one rclone copy in the backup container, its stats shown live; raises as box.run does."""
        self._what, self._last = what, None
        done = box.run(argv, limit="copy", progress=self._line, **kwargs)
        final = {key: self._last[group] if self._last else ""
                 for key, group in (("transferred", "done"), ("of", "total"), ("speed", "speed"))}
        self.copies.append({"copy": what, **final, "seconds": round(done.seconds, 1)})
        return done

    def _line(self, line: str) -> None:
        stats = stats_of(line)
        if stats:
            self._last = stats
            progress.show(f"{self.step} {self._what}: {stats['stats']}")
