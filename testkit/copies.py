"""Count the running containers of one compose service, from a thread, while a check runs: the proof
that a one-copy app (seed 003) never runs twice through a deploy or a rollback.

Containers are found by compose's own labels (project, service), one docker API call per sample.
The live project's app containers are counted apart from its one-offs (`compose run`: a migration
runs the app's image with another command, not the app and its jobs) and from the rehearsal
projects the rollback check starts (`opsuite-restore-<project>-rehearsal-*`): those are reported, the
live count is what the one-copy rule is about.
"""

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import docker

from procedures.guards import THROWAWAY_VOLUME_PREFIX

PROJECT, SERVICE, ONE_OFF = "com.docker.compose.project", "com.docker.compose.service", "com.docker.compose.oneoff"


@dataclass(frozen=True)
class Sample:
    at: float  # time.time() when the listing was asked for
    live: tuple[str, ...]  # short ids of the live project's running app containers (no one-offs)
    one_offs: tuple[str, ...]
    twins: tuple[str, ...]  # "<project>/<id>" of rehearsal projects' running containers of the service


@dataclass
class CopyCounter:
    """Sample every `interval` seconds until the with-block ends or `max_seconds` pass (then `bounded`)."""

    project: str
    service: str
    interval: float = 0.05
    max_seconds: float = 1200.0
    samples: list[Sample] = field(default_factory=list)
    bounded: bool = False
    error: BaseException | None = None

    def __post_init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._client = docker.from_env()
        self._twin_prefix = f"{THROWAWAY_VOLUME_PREFIX}{self.project}-rehearsal-"

    def __enter__(self) -> "CopyCounter":
        self.sample()  # a listing that fails fails here, in the test, not in the thread
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._client.close()

    def _run(self) -> None:
        ends = time.monotonic() + self.max_seconds
        try:
            while not self._stop.wait(self.interval):
                if time.monotonic() >= ends:
                    self.bounded = True
                    return
                self.sample()
        except BaseException as e:  # kept for the test's assertion: a blind sampler proves nothing
            self.error = e

    def sample(self) -> Sample:
        at = time.time()
        live, one_offs, twins = [], [], []
        # The engine's own listing of running containers (no inspect per container: one call, one instant).
        for container in self._client.api.containers(filters={"label": f"{SERVICE}={self.service}"}):
            labels, short = container.get("Labels") or {}, container["Id"][:12]
            project = labels.get(PROJECT, "")
            if project == self.project:
                (one_offs if labels.get(ONE_OFF) == "True" else live).append(short)
            elif project.startswith(self._twin_prefix):
                twins.append(f"{project}/{short}{' (one-off)' if labels.get(ONE_OFF) == 'True' else ''}")
        found = Sample(at, tuple(live), tuple(one_offs), tuple(twins))
        self.samples.append(found)
        return found

    def between(self, start: str, end: str, pad: float = 1.0) -> list[Sample]:
        """The samples in a window given as the ledger's ISO times (whole seconds, hence the pad)."""
        low, high = (datetime.fromisoformat(t).timestamp() for t in (start, end))
        return [s for s in self.samples if low - pad <= s.at <= high + pad]

    def most(self) -> Sample:
        return max(self.samples, key=lambda s: len(s.live))

    def summary(self) -> dict:
        return {"samples": len(self.samples), "most_live": len(self.most().live), "most_live_at": self.most(),
                "seconds": round(self.samples[-1].at - self.samples[0].at, 1) if self.samples else 0,
                "twins_seen": sorted({t for s in self.samples for t in s.twins}),
                "one_offs_seen": sorted({o for s in self.samples for o in s.one_offs}),
                # How often a rehearsal's app ran while the live one did (the rehearsal's to seal, not the switch's).
                "samples_twin_beside_live": sum(1 for s in self.samples if s.live and s.twins), "bounded": self.bounded}


def assert_one_copy_throughout(counter: CopyCounter, switch: dict) -> None:
    """Never two running app containers of the live project; the sampler ran to the end and saw the
    switch (its window from the ledger entry's `switch`) several times over."""
    __tracebackhide__ = True
    assert counter.error is None and not counter.bounded, counter.summary()
    assert len(counter.between(switch["started_at"], switch["finished_at"])) >= 5, counter.summary()
    assert len(counter.most().live) <= 1, counter.summary()
