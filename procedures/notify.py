"""Tell a webhook how an unattended check ended: GET NOTIFY_URL?check=..&status=..&exit_code=N.

The URL may carry a token or credentials: only its scheme://host[:port] is ever printed, and
scripts/run-check.sh passes it by environment, never argv. Imports only the standard library and
procedures.redact, because run-check.sh may run this with a bare system python3.
"""

import base64
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

from procedures.redact import redact


def notify(url: str, check: str, status: str, exit_code: int, timeout: float = 10) -> bool:
    """GET url?check=..&status=..&exit_code=N and print one line; False if refused or not delivered."""
    parts = urllib.parse.urlsplit(url)
    shown = _scheme_and_host(parts)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        _say(f"WARNING: not notifying: NOTIFY_URL must be an http(s) URL (got {parts.scheme or 'no'} scheme)")
        return False
    request = _request(parts, {"check": check, "status": status, "exit_code": exit_code})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            code = response.status
    except urllib.error.HTTPError as e:
        _say(f"WARNING: notification to {shown} answered HTTP {e.code}")
        return False
    except urllib.error.URLError as e:
        _say(f"WARNING: notification to {shown} not delivered: {_reason(e.reason)}")
        return False
    except Exception as e:  # timeouts and the like; never print the message, it may quote the URL
        _say(f"WARNING: notification to {shown} not delivered: {type(e).__name__}")
        return False
    _say(f"notified {shown} (status={status}, HTTP {code})")
    return True


def main() -> int:
    """Notify from NOTIFY_URL, OPSUITE_CHECK, OPSUITE_STATUS, OPSUITE_EXIT_CODE; 1 if not delivered."""
    env = os.environ
    delivered = notify(env.get("NOTIFY_URL", ""), env["OPSUITE_CHECK"], env["OPSUITE_STATUS"],
                       int(env["OPSUITE_EXIT_CODE"]))
    return 0 if delivered else 1


def _scheme_and_host(parts: urllib.parse.SplitResult) -> str:
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{port}" if port else "")


def _request(parts: urllib.parse.SplitResult, params: dict) -> urllib.request.Request:
    """The URL without its credentials, params appended to its query; credentials become Basic auth."""
    query = urllib.parse.urlencode(params)
    netloc = parts.netloc.rpartition("@")[2]
    target = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path or "/",
                                      f"{parts.query}&{query}" if parts.query else query, ""))
    request = urllib.request.Request(target, headers={"User-Agent": "opsuite-run-check"})
    if parts.username is not None:
        creds = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        request.add_header("Authorization", "Basic " + base64.b64encode(creds.encode()).decode())
    return request


def _reason(reason: object) -> str:
    if isinstance(reason, str):
        return reason
    return getattr(reason, "strerror", None) or type(reason).__name__


def _say(line: str) -> None:
    print(redact(f"opsuite: {line}"))


if __name__ == "__main__":
    sys.exit(main())
