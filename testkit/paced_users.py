"""A few users who each wait for their answer before asking again, paced to a total rate: what a
correctness test under load needs, on any machine.

bench.load.ConstantLoad is an open loop (request i leaves at i/rate whatever the server does), right
for measuring a stall. As the load of a test that asserts no request fails it is wrong on a busy
machine: when the app serves fewer than `rate` requests a second the requests pile up (64 in flight,
each opening a database connection), the app's 3 s connect timeout answers 500 and the deploy's own
migrate task finds no connection slot, well before and apart from the switch the test is about. Here
at most `users` requests are in flight: a slow machine gets fewer requests, never more than it serves.
"""

import threading
import time

import httpx

from .samples import Sample, loopback_client, summarize


class PacedUsers:
    """users threads GET url in turn, together at most rate per second, until stopped or max_seconds."""

    def __init__(self, url: str, users: int = 4, rate: float = 20, max_seconds: float = 600, timeout: float = 60.0):
        # The timeout is past the proxy's own (connect 3 s + read 30 s): its 502/504 is the verdict.
        self._client = loopback_client(url, timeout, "the test load")
        self.url, self.users, self.rate, self.max_seconds = url, users, rate, max_seconds
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._user, args=(k,), daemon=True) for k in range(users)]
        self._started = 0.0
        self._seconds = 0.0
        self.started_wall = 0.0  # time.time() when the load began: samples' due is counted from it

    def __enter__(self) -> "PacedUsers":
        self._started = time.monotonic()
        self.started_wall = time.time()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self._client.close()
        self._seconds = time.monotonic() - self._started

    def _user(self, k: int) -> None:
        interval = self.users / self.rate
        due = self._started + k / self.rate  # staggered, so the users' requests interleave
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            sent = time.monotonic()
            if sent - self._started >= self.max_seconds:
                return
            try:
                status = self._client.get(self.url).status_code
            except httpx.HTTPError:
                status = None
            self.samples.append(Sample(sent - self._started, time.monotonic() - sent, status))
            due = max(due + interval, time.monotonic())

    @property
    def seconds(self) -> float:
        """How long the load ran (set when it stops)."""
        return self._seconds

    def between(self, start_wall: float, end_wall: float) -> list[Sample]:
        """The samples sent between two wall-clock times (the switch's window, from the ledger)."""
        return [s for s in self.samples if start_wall <= self.started_wall + s.due <= end_wall]

    def summary(self) -> dict:
        return {**summarize(self.samples, self._seconds), "users": self.users, "rate_per_second": self.rate,
                "url": self.url}
