"""The app as a user reaches it through the reverse proxy: readiness, the served version, smoke checks."""

import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from .. import runner
from ..commands import docker as docker_cmd
from ..config import HttpConfig
from ..errors import NotReady
from . import smoke_checks
from .serving import image_release


@dataclass(frozen=True)
class HttpResult:
    url: str
    status: int | None
    body: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def json(self) -> dict:
        return json.loads(self.body)


def get(base_url: str, path: str, timeout: float = 5.0, verify: str | bool = True, method: str = "GET",
        headers: dict[str, str] | None = None) -> HttpResult:
    """A request (GET unless told) to base_url+path; a connection failure is a result with status None,
    not an exception."""
    url = base_url.rstrip("/") + path
    started = time.monotonic()
    try:
        response = httpx.request(method, url, timeout=timeout, verify=verify, headers=headers)
        return HttpResult(url, response.status_code, response.text, time.monotonic() - started)
    except httpx.HTTPError as e:
        return HttpResult(url, None, f"{type(e).__name__}: {e}", time.monotonic() - started)


def get_from(probe: str):
    """A `get` that asks from inside the probe container, for an app on a network the host cannot reach."""
    def get_inside(base_url: str, path: str, timeout: float = 5.0, verify: str | bool = True, method: str = "GET",
                   headers: dict[str, str] | None = None) -> HttpResult:
        url = base_url.rstrip("/") + path
        started = time.monotonic()
        variables = {header: f"OPSUITE_HEADER_{i}" for i, header in enumerate(headers or {})}
        done = runner.run(docker_cmd.http_get_from(probe, url, timeout, method, variables), limit="command",
                          check=False, timeout=timeout + 30,
                          env={variables[h]: value for h, value in (headers or {}).items()})
        try:
            answer = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            answer = {"status": None, "body": f"the probe failed (exit {done.returncode}): {done.stderr[-300:]}"}
        return HttpResult(url, answer["status"], answer["body"], time.monotonic() - started)
    return get_inside


def wait_until_ready(http: HttpConfig, timeout: float | None = None, interval: float = 1.0) -> HttpResult:
    """Poll the readiness endpoint until it answers 2xx; raise NotReady with the last answer."""
    deadline = time.monotonic() + (timeout if timeout is not None else http.ready_timeout_seconds)
    while True:
        result = get(http.base_url, http.ready_path, verify=http.verify)
        if result.ok:
            return result
        if time.monotonic() >= deadline:
            raise NotReady(
                f"{result.url} not ready after {timeout or http.ready_timeout_seconds:.0f}s: "
                f"last answer {result.status}: {result.body[:300]}"
            )
        time.sleep(interval)


def unset_field(answer: HttpResult, dotted: str) -> str | None:
    """How a 2xx JSON answer fails to carry the release: "absent" or "empty" (a build that ships
    BUILD_VERSION=""); None when it carries one, or is no 2xx JSON object (that is a failure of its own)."""
    if not answer.ok:
        return None
    try:
        document = answer.json()
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    served = smoke_checks.field_of(document, dotted)
    if served is None:
        return "absent"
    return "empty" if str(served).strip() == "" else None


def served_release(ctx) -> dict:
    """Which release serves: [http] version_field of version_path's JSON through the proxy, or with
    version_path = "" the running app containers' image tag and image ids, as also when the field
    is empty or absent (said in "source", and "fallback" is set)."""
    http = ctx.config.http
    if not http.version_path:
        return image_release(ctx)
    answer = get(http.base_url, http.version_path, verify=http.verify)
    unset = unset_field(answer, http.version_field)
    if unset:
        images = image_release(ctx)
        return {**images, "fallback": True,
                "source": f"{answer.url} field {http.version_field!r} is {unset} (the app does not say its release): "
                          "the running app containers' image tag instead"}
    try:
        served = smoke_checks.field_of(answer.json(), http.version_field) if answer.ok else None
    except ValueError:
        served = None
    return {"version": None if served is None else str(served), "source": f"{answer.url} field {http.version_field!r}",
            "status": answer.status, "body": answer.body[:300]}


def check_version(ctx) -> dict:
    """The serving release is ctx.tag; raises NotReady naming where the release was read otherwise."""
    found = served_release(ctx)
    if found["version"] != ctx.tag:
        raise NotReady(f"{found['source']} reports {found['version']!r}, expected {ctx.tag!r}"
                       + (f" (answer {found['status']}: {found['body']})" if "body" in found else ""))
    return found


def check_ready(ctx) -> dict:
    """Readiness green through the proxy and the serving release is the TAG; raises NotReady otherwise."""
    ready = wait_until_ready(ctx.config.http)
    found = check_version(ctx)
    return {"readyz": ready.body, "version": found["version"], "version_source": found["source"]}


def public_host(http: HttpConfig) -> dict[str, str]:
    """The Host header of [http] base_url: a container asked at its own address is asked for the name the
    app is reached by, since an app that checks Host (Django's ALLOWED_HOSTS) refuses a bare address."""
    return {"Host": urlsplit(http.base_url).netloc}


def smoke(ctx, base_url: str | None = None, ask=None) -> list[dict]:
    """Run the configured HTTP expectations through the proxy (or against base_url, one container's own
    address, asked by `ask` when given, with the public Host); raises NotReady listing every one that
    failed. Header values come from the environment and appear in no result."""
    results = []
    own_address = public_host(ctx.config.http) if base_url else {}
    for check in ctx.config.deploy.smoke:
        answer = (ask or get)(base_url or ctx.config.http.base_url, check.path, verify=ctx.config.http.verify,
                              method=check.method, headers={**own_address, **smoke_checks.header_values(check)})
        results.append(smoke_checks.judge(check, answer.status, answer.body, answer.seconds))
    failed = [r for r in results if not r["ok"]]
    if failed:
        raise NotReady(f"smoke checks failed: {failed}")
    return results
