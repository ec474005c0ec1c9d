"""A start-first switch behind Traefik ends only after Traefik's next reload: until then it still sends
requests to the stopped container, whose vanished address a dial waits on (full-stack-fastapi-template's
rollback: its own smoke check, sent right after the stop, timed out)."""

from types import SimpleNamespace

import pytest

from procedures.release import start_first
from procedures.release.switch_plan import START_FIRST, ServiceSwitch
from procedures.stack.proxy_view import ProxyView, Upstream

pytestmark = pytest.mark.unit

OLD = {"id": "old0000000000", "state": "running", "config_hash": "h1", "addresses": ["172.29.0.4"]}
NEW = {"id": "new0000000000", "state": "running", "config_hash": "h2", "addresses": ["172.29.0.5"]}


def switched(monkeypatch, proxy: ProxyView, drain_exit: int = 0) -> list[tuple]:
    events: list[tuple] = []

    def run(argv, **kwargs):
        events.append(("run", *argv[1:3]))
        drain = "iptables" in argv
        return SimpleNamespace(returncode=drain_exit if drain else 0, stdout="",
                               stderr="exec: iptables: not found" if drain and drain_exit else "")

    listings = iter([[OLD], [OLD, NEW]])
    monkeypatch.setattr(start_first, "_wanted_hash", lambda ctx, service: "h2")
    monkeypatch.setattr(start_first, "_containers", lambda ctx, service: next(listings))
    monkeypatch.setattr(start_first, "ready_directly", lambda *a, **k: {})
    monkeypatch.setattr(start_first, "_proxy_found_new", lambda *a, **k: "found")
    monkeypatch.setattr(start_first.compose_cmd, "scale_beside", lambda *a: ["scale"])
    monkeypatch.setattr(start_first.runner, "run", run)
    monkeypatch.setattr(start_first.time, "sleep", lambda seconds: events.append(("sleep", seconds)))
    ctx = SimpleNamespace(config=SimpleNamespace(stack=None, http=SimpleNamespace(ready_timeout_seconds=60.0),
                                                 backup=SimpleNamespace(image="opsuite-local/backup:pg15")),
                          compose=SimpleNamespace(run=lambda argv, **k: None), tag="v2")
    start_first.switch(ctx, ServiceSwitch("backend", START_FIRST, "behind traefik", 8000), proxy)
    return events


def test_behind_traefik_the_switch_ends_after_its_next_reload(monkeypatch):
    events = switched(monkeypatch, ProxyView("traefik", refresh_seconds=2.0, follows_health=True))
    stopped = next(i for i, event in enumerate(events) if event[:2] == ("run", "stop"))
    assert events[-1] == ("sleep", 2.0 + start_first.LOOKUP_MARGIN_SECONDS) and len(events) - 1 > stopped


def test_behind_a_proxy_that_dials_the_name_the_switch_ends_at_the_stop(monkeypatch):
    events = switched(monkeypatch, ProxyView("caddy", refresh_seconds=0.0))
    stopped = events.index(("run", "stop", "old0000000000"))
    assert not any(e[0] == "sleep" for e in events[stopped:])


def test_the_old_container_is_drained_before_its_stop(monkeypatch):
    events = switched(monkeypatch, ProxyView("caddy", refresh_seconds=0.0))
    drained = events.index(("run", "run", "--rm"))
    assert events[drained + 1:drained + 3] == [("sleep", start_first.DRAIN_SECONDS), ("run", "stop", "old0000000000")]


def test_without_iptables_in_the_backup_image_the_switch_stops_without_a_drain(monkeypatch, caplog):
    events = switched(monkeypatch, ProxyView("caddy", refresh_seconds=0.0), drain_exit=127)
    drained = events.index(("run", "run", "--rm"))
    assert events[drained + 1] == ("run", "stop", "old0000000000") and "no drain before the stop" in caplog.text


def test_drained_behind_a_probing_traefik_the_switch_ends_at_the_stop(monkeypatch):
    """Traefik's own health check took the drained container out of its rotation before the stop: no reload
    to wait for. Without the probe (the upstream's advice names it), or without the drain, it is waited."""
    probed = ProxyView("traefik", {"backend": Upstream("backend", 8000, probed=True)}, refresh_seconds=2.0, follows_health=True)
    events = switched(monkeypatch, probed)
    assert not any(e[0] == "sleep" for e in events[events.index(("run", "stop", "old0000000000")):])
    unprobed = ProxyView("traefik", {"backend": Upstream("backend", 8000, advice="no Traefik health check")},
                         refresh_seconds=2.0, follows_health=True)
    assert switched(monkeypatch, unprobed)[-1] == ("sleep", 2.0 + start_first.LOOKUP_MARGIN_SECONDS)
    assert switched(monkeypatch, probed, drain_exit=127)[-1] == ("sleep", 2.0 + start_first.LOOKUP_MARGIN_SECONDS)
