"""A constant-rate HTTP load on loopback, bounded in count and time: what users see during a change.

Open loop: request i is due at i/rate seconds whatever earlier ones do, and its time is counted
from when it was due, so a stalled server shows as long responses instead of fewer requests.
"""

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
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


class ConstantLoad:
    """GET url at rate per second until stopped, max_seconds pass, or rate*max_seconds are sent."""

    def __init__(self, url: str, rate: float, max_seconds: float, timeout: float = 10.0):
        if urlsplit(url).hostname not in LOOPBACK:
            raise UnsafeOperation(f"refused: the benchmark load goes to loopback only, not {url}")
        self.url, self.rate, self.max_seconds, self.timeout = url, rate, max_seconds, timeout
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        # A new connection per request (no keep-alive): each request stands for an independent user.
        self._client = httpx.Client(timeout=timeout, limits=httpx.Limits(max_keepalive_connections=0))
        self._pool = ThreadPoolExecutor(max_workers=64)
        self._thread = threading.Thread(target=self._schedule, daemon=True)
        self._started = 0.0
        self._seconds = 0.0
        self.started_wall = 0.0  # time.time() when the load began: samples' due is counted from it

    def __enter__(self) -> "ConstantLoad":
        self._started = time.monotonic()
        self.started_wall = time.time()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._pool.shutdown(wait=True)  # in-flight requests end within their timeout
        self._client.close()
        self._seconds = time.monotonic() - self._started

    def _schedule(self) -> None:
        for i in range(int(self.rate * self.max_seconds)):
            due = self._started + i / self.rate
            if self._stop.wait(max(0.0, due - time.monotonic())):
                return
            self._pool.submit(self._request, due)

    def _request(self, due: float) -> None:
        try:
            status = self._client.get(self.url).status_code
        except httpx.HTTPError:
            status = None
        self.samples.append(Sample(due - self._started, time.monotonic() - due, status))

    def between(self, start_wall: float, end_wall: float) -> list[Sample]:
        """The samples due between two wall-clock times (the switch's window, from the ledger)."""
        return [s for s in self.samples if start_wall <= self.started_wall + s.due <= end_wall]

    def summary(self) -> dict:
        return {**summarize(self.samples, self._seconds), "rate_per_second": self.rate, "url": self.url}
