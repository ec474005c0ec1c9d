"""A start-first switch behind Traefik ends only after Traefik's next reload: until then it still sends
requests to the stopped container, whose vanished address a dial waits on (full-stack-fastapi-template's
rollback: its own smoke check, sent right after the stop, timed out)."""

from types import SimpleNamespace

import pytest

from procedures.release import start_first
from procedures.release.switch_plan import START_FIRST, ServiceSwitch
from procedures.stack.proxy_view import ProxyView

pytestmark = pytest.mark.unit

OLD = {"id": "old0000000000", "state": "running", "config_hash": "h1", "addresses": ["172.29.0.4"]}
NEW = {"id": "new0000000000", "state": "running", "config_hash": "h2", "addresses": ["172.29.0.5"]}


def switched(monkeypatch, proxy: ProxyView) -> list[tuple]:
    events: list[tuple] = []
    listings = iter([[OLD], [OLD, NEW]])
    monkeypatch.setattr(start_first, "_wanted_hash", lambda ctx, service: "h2")
    monkeypatch.setattr(start_first, "_containers", lambda ctx, service: next(listings))
    monkeypatch.setattr(start_first, "ready_directly", lambda *a, **k: {})
    monkeypatch.setattr(start_first, "_proxy_found_new", lambda *a, **k: "found")
    monkeypatch.setattr(start_first.compose_cmd, "scale_beside", lambda *a: ["scale"])
    monkeypatch.setattr(start_first.runner, "run", lambda argv, **k: events.append(("run", *argv[1:3])))
    monkeypatch.setattr(start_first.time, "sleep", lambda seconds: events.append(("sleep", seconds)))
    ctx = SimpleNamespace(config=SimpleNamespace(stack=None, http=SimpleNamespace(ready_timeout_seconds=60.0)),
                          compose=SimpleNamespace(run=lambda argv, **k: None), tag="v2")
    start_first.switch(ctx, ServiceSwitch("backend", START_FIRST, "behind traefik", 8000), proxy)
    return events


def test_behind_traefik_the_switch_ends_after_its_next_reload(monkeypatch):
    events = switched(monkeypatch, ProxyView("traefik", refresh_seconds=2.0, follows_health=True))
    stopped = next(i for i, event in enumerate(events) if event[:2] == ("run", "stop"))
    assert events[-1] == ("sleep", 2.0 + start_first.LOOKUP_MARGIN_SECONDS) and len(events) - 1 > stopped


def test_behind_a_proxy_that_dials_the_name_the_switch_ends_at_the_stop(monkeypatch):
    events = switched(monkeypatch, ProxyView("caddy", refresh_seconds=0.0))
    assert not any(e[0] == "sleep" for e in events)
