"""A container asked at its own address (the start-first switch, the rollback rehearsal) is asked with
the Host the app is reached by ([http] base_url): an app that checks Host (Django's ALLOWED_HOSTS,
healthchecks) answers 400 to a bare IP address, and the rehearsal took that for "not ready"."""

from types import SimpleNamespace

import pytest

from procedures.config import SmokeCheck
from procedures.release import start_first
from procedures.stack import readiness
from procedures.stack.readiness import HttpResult

pytestmark = pytest.mark.unit


def _ctx(base_url="http://127.0.0.1:18471", smoke=()):
    http = SimpleNamespace(base_url=base_url, ready_path="/api/v3/status/", verify=True)
    return SimpleNamespace(config=SimpleNamespace(http=http, deploy=SimpleNamespace(smoke=list(smoke))))


def _asker(asked):
    def ask(base_url, path, timeout=5.0, verify=True, method="GET", headers=None):
        asked.append((base_url, path, headers))
        return HttpResult(base_url + path, 200, "OK", 0.01)
    return ask


def test_readiness_at_a_containers_own_address_carries_the_public_host(monkeypatch):
    monkeypatch.setattr(start_first, "container_facts",
                        lambda ids: [{"id": ids[0], "state": "running", "addresses": ["172.20.0.5"]}])
    asked = []
    ready = start_first.ready_directly(_ctx(), {"id": "c0ffee"}, 8000, deadline=0, ask=_asker(asked))
    assert asked == [("http://172.20.0.5:8000", "/api/v3/status/", {"Host": "127.0.0.1:18471"})]
    assert ready["base_url"] == "http://172.20.0.5:8000"


def test_smoke_checks_at_a_containers_own_address_carry_the_public_host():
    check = SmokeCheck(path="/api/v3/status/")
    asked = []
    readiness.smoke(_ctx("https://hc.example.org", [check]), base_url="http://172.20.0.5:8000", ask=_asker(asked))
    assert asked[0][2] == {"Host": "hc.example.org"}


def test_smoke_checks_through_the_front_leave_the_host_alone():
    check = SmokeCheck(path="/api/v3/status/")
    asked = []
    readiness.smoke(_ctx(smoke=[check]), ask=_asker(asked))
    assert asked[0][0] == "http://127.0.0.1:18471" and not asked[0][2]
