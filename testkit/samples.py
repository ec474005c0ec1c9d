"""What a test or a benchmark load saw of each request, and the summary of a run: shared by the
benchmarks' open-loop load (bench/load.py) and the tests' paced users (testkit/paced_users.py)."""

import statistics
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from procedures.errors import UnsafeOperation

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Sample:
    due: float  # seconds after the load started
    seconds: float
    status: int | None  # None: no HTTP answer (refused, reset, timed out)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def summarize(samples: list[Sample], seconds: float) -> dict:
    failed = [s for s in samples if not s.ok]
    times = sorted(s.seconds for s in samples) or [0.0]
    ok_times = [s.seconds for s in samples if s.ok] or [0.0]
    return {
        "requests": len(samples), "failed": len(failed),
        "errors": sum(s.status is None for s in failed), "non_2xx": sum(s.status is not None for s in failed),
        "max_ms": round(times[-1] * 1000, 1), "max_ok_ms": round(max(ok_times) * 1000, 1),
        "median_ms": round(statistics.median(times) * 1000, 1),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))] * 1000, 1),
        "failure_window_seconds": round(max(s.due for s in failed) - min(s.due for s in failed), 2) if failed else 0.0,
        "load_seconds": round(seconds, 1),
    }


def loopback_client(url: str, timeout: float, who: str) -> httpx.Client:
    """A client for a load on url, refused unless url is on loopback; a new connection per request (no
    keep-alive), so each request stands for an independent user."""
    if urlsplit(url).hostname not in LOOPBACK:
        raise UnsafeOperation(f"refused: {who} goes to loopback only, not {url}")
    return httpx.Client(timeout=timeout, limits=httpx.Limits(max_keepalive_connections=0))
