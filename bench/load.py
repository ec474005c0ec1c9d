"""A constant-rate HTTP load on loopback, bounded in count and time: what users see during a change.

Open loop: request i is due at i/rate seconds whatever earlier ones do, and its time is counted
from when it was due, so a stalled server shows as long responses instead of fewer requests.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from testkit.samples import Sample, loopback_client, summarize

class ConstantLoad:
    """GET url at rate per second until stopped, max_seconds pass, or rate*max_seconds are sent."""

    def __init__(self, url: str, rate: float, max_seconds: float, timeout: float = 10.0):
        self._client = loopback_client(url, timeout, "the benchmark load")
        self.url, self.rate, self.max_seconds, self.timeout = url, rate, max_seconds, timeout
        self.samples: list[Sample] = []
        self._stop = threading.Event()
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
