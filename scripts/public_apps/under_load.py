"""Run one ops check under testkit's PacedUsers (20 req/s) against the app through its proxy, and
print every failed request with its status and time. Not part of CI.

    python scripts/public_apps/under_load.py --url https://127.0.0.1:18443/api/v1/utils/health-check/ \
        --host api.appb-fastapi.localhost --insecure --out load.json -- ops_checks/deploy.py --ops-config=... --tag=REF

The load reaches the proxy on loopback and names the virtual host in a Host header (the proxy routes by
it; a real user's DNS would). Exit status: the check's.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from testkit.paced_users import PacedUsers  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--host", default="")
    parser.add_argument("--insecure", action="store_true")
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--out", required=True)
    parser.add_argument("check", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    check = [a for a in args.check if a != "--"]
    load = PacedUsers(args.url, users=args.users, rate=args.rate, max_seconds=1800)
    load._client.close()
    load._client = httpx.Client(timeout=60.0, verify=not args.insecure,
                                headers={"Host": args.host} if args.host else {},
                                limits=httpx.Limits(max_keepalive_connections=0))
    load.__enter__()
    try:
        time.sleep(2)
        started = time.time()
        rc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *check], cwd=ROOT).returncode
        ended = time.time()
        time.sleep(2)
    finally:
        # Not PacedUsers.__exit__: it joins without a limit, and one request hung on a TLS read (seen once
        # here) would hold the figures back; a user still waiting after 65 s is left behind (a daemon thread).
        load._stop.set()
        for thread in load._threads:
            thread.join(timeout=65)
        load._seconds = time.monotonic() - load._started
    hung = sum(thread.is_alive() for thread in load._threads)
    failed = [{"at": round(load.started_wall + s.due, 3), "status": s.status, "seconds": round(s.seconds, 3)}
              for s in load.samples if not s.ok]
    during = [s for s in load.between(started, ended)]
    record = {"check": check, "rc": rc, "check_started": started, "check_ended": ended,
              "check_seconds": round(ended - started, 3), "summary": load.summary(),
              "requests_during_check": len(during), "failed_during_check": sum(1 for s in during if not s.ok),
              "users_still_waiting": hung, "failed": failed}
    Path(args.out).write_text(json.dumps(record, indent=1))
    print(f"LOAD {args.rate:g} req/s: {len(load.samples)} requests, {len(failed)} failed "
          f"({record['failed_during_check']} of {len(during)} while the check ran); rc={rc}")
    for f in failed:
        print(f"  failed at {time.strftime('%H:%M:%S', time.gmtime(f['at']))}.{int(f['at'] % 1 * 1000):03d} "
              f"status={f['status']} after {f['seconds']} s")
    return rc


if __name__ == "__main__":
    sys.exit(main())
