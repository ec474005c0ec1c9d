"""The app as a user reaches it through the reverse proxy: readiness, the served version, smoke checks."""

import json
import time
from dataclasses import dataclass

import httpx

from ..config import HttpConfig
from ..errors import NotReady


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


def get(base_url: str, path: str, timeout: float = 5.0) -> HttpResult:
    """GET base_url+path; a connection failure is a result with status None, not an exception."""
    url = base_url.rstrip("/") + path
    started = time.monotonic()
    try:
        response = httpx.get(url, timeout=timeout)
        return HttpResult(url, response.status_code, response.text, time.monotonic() - started)
    except httpx.HTTPError as e:
        return HttpResult(url, None, f"{type(e).__name__}: {e}", time.monotonic() - started)


def wait_until_ready(http: HttpConfig, timeout: float | None = None, interval: float = 1.0) -> HttpResult:
    """Poll the readiness endpoint until it answers 2xx; raise NotReady with the last answer."""
    deadline = time.monotonic() + (timeout if timeout is not None else http.ready_timeout_seconds)
    while True:
        result = get(http.base_url, http.ready_path)
        if result.ok:
            return result
        if time.monotonic() >= deadline:
            raise NotReady(
                f"{result.url} not ready after {timeout or http.ready_timeout_seconds:.0f}s: "
                f"last answer {result.status}: {result.body[:300]}"
            )
        time.sleep(interval)


def check_ready(ctx) -> dict:
    """/readyz green through the proxy and /version reporting the TAG; raises NotReady otherwise."""
    ready = wait_until_ready(ctx.config.http)
    version = get(ctx.config.http.base_url, ctx.config.http.version_path)
    served = version.json().get("version") if version.ok else None
    if served != ctx.tag:
        raise NotReady(f"{version.url} reports {served!r}, expected {ctx.tag!r}")
    return {"readyz": ready.body, "version": served}


def smoke(ctx) -> list[dict]:
    """Run the configured HTTP expectations; raises NotReady listing every one that failed."""
    results = []
    for check in ctx.config.deploy.smoke:
        answer = get(ctx.config.http.base_url, check.path)
        ok = answer.status == check.status and check.contains in answer.body
        results.append({"path": check.path, "expected": check.status, "status": answer.status,
                        "contains": check.contains, "ok": ok, "seconds": round(answer.seconds, 3)})
    failed = [r for r in results if not r["ok"]]
    if failed:
        raise NotReady(f"smoke checks failed: {failed}")
    return results
