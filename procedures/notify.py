"""Tell a person how a scheduled check ended, through Apprise (email, chat, webhooks from one URL scheme).

    python -m procedures.notify CHECK EXIT_CODE [--record PATH] [--report PATH] [--ops-config PATH]
                                [--setup-error TEXT]

scripts/run-check.sh runs it after every check. The URLs come from the ops config's [notify] (a variable
of the stack's env file, or a secret file), never argv. A failure always notifies; a success when
[notify] on_success = true. Only a target's scheme and network host are ever printed, and everything
printed is redacted with the URLs' secrets registered: Apprise's own log quotes URLs.
"""

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from .config import read_config
from .errors import ConfigError
from .notify_message import Message, build, one_line
from .notify_targets import apprise_log, load_apprise, read_urls, shown
from .redact import install_log_redaction, redact

DEFAULT_CONFIG = "ops.toml"


def send(targets: list[tuple[str, str]], message: Message) -> bool:
    """Send message to every (where, url) target, one line printed for each; False if any was not
    delivered. Never raises: a notification must not change the check's result."""
    apprise = load_apprise()
    # Memory only: Apprise's persistent store would otherwise keep per-target state on disk.
    asset = apprise.AppriseAsset(body_format=apprise.NotifyFormat.TEXT,
                                 storage_mode=apprise.PersistentStoreMode.MEMORY)
    kind = apprise.NotifyType.FAILURE if message.failed else apprise.NotifyType.SUCCESS
    delivered = True
    for where, url in targets:
        target = f"{shown(url)} ({where})"
        said: list[logging.LogRecord] = []
        try:
            with apprise_log(into=said):
                # Through an Apprise object, not the plugin: it converts the text to what each
                # service takes (an HTML mail part with the lines kept, escaped).
                sender = apprise.Apprise(asset=asset)
                ok = sender.add(url) and bool(sender.notify(body=message.body, title=message.title,
                                                            notify_type=kind, body_format=apprise.NotifyFormat.TEXT))
        except Exception as e:  # never the exception's text: it may quote the URL
            said, ok = [], False
            reason = type(e).__name__
        else:
            reason = _reason(said)
        if ok:
            _say(f"notified {target}")
        else:
            delivered = False
            _say(f"WARNING: notification to {target} not delivered: {reason} (the check's result stands)")
    return delivered


def notify(check: str, exit_code: int, config_path: Path, record_path: Path | None = None,
           report: str | None = None, setup_error: str | None = None) -> bool:
    """Notify the targets of config_path's [notify] about one run of check; True when every target was
    reached or nothing was to be sent. A config that does not load is said and not notified."""
    try:
        config = read_config(config_path)
    except ConfigError as e:
        _say(f"WARNING: not notifying: {e}")
        return False
    if config.notify is None:
        _say(f"no notification: {config_path} has no [notify] section")
        return True
    if exit_code == 0 and not config.notify.on_success:
        return True
    record, problem = _read_record(record_path)
    if report is None and record_path is not None:
        report = str(record_path.with_suffix(".html"))
    message = build(check, exit_code, config.stack.project, record, report, setup_error, problem)
    try:
        targets = read_urls(config.notify.urls_variable, config.notify.urls_file, config.stack.env_file)
    except ConfigError as e:  # changed since the config loaded
        _say(f"WARNING: not notifying: {e}")
        return False
    return send(targets, message)


def main(argv: list[str] | None = None) -> int:
    """Parse argv and notify; 1 when a notification was not delivered (run-check.sh only logs that)."""
    parser = argparse.ArgumentParser(prog="python -m procedures.notify", description=__doc__.splitlines()[0])
    parser.add_argument("check")
    parser.add_argument("exit_code", type=int)
    parser.add_argument("--record", type=Path, help="the run's JSON record, reports/<check>/<stamp>.json")
    parser.add_argument("--report", help="the run's HTML report (default: the record's, beside it)")
    parser.add_argument("--ops-config", type=Path,
                        help=f"the stack's ops config (default: $OPSUITE_CONFIG, else {DEFAULT_CONFIG})")
    parser.add_argument("--setup-error", help="why the check could not start (then there is no record)")
    args = parser.parse_args(argv)
    install_log_redaction()  # any library's log record (urllib3 quotes the path) is redacted at creation
    config = args.ops_config or Path(os.environ.get("OPSUITE_CONFIG") or DEFAULT_CONFIG)
    delivered = notify(args.check, args.exit_code, config, args.record, args.report, args.setup_error)
    return 0 if delivered else 1


def _read_record(path: Path | None) -> tuple[dict | None, str | None]:
    """The record as a dict, or None and why (a damaged record still notifies, without its details)."""
    if path is None:
        return None, None
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        return None, f"{path} could not be read ({type(e).__name__}): details are in the report"
    if not isinstance(record, dict):
        return None, f"{path} is not a record (not a JSON object): details are in the report"
    return record, None


def _reason(said: list[logging.LogRecord]) -> str:
    """Apprise's last warning of a failed send, in one line (redacted when printed)."""
    for record in reversed(said):
        try:
            return one_line(record.getMessage(), 200)
        except Exception:
            continue
    return "Apprise gave no reason"


def _say(line: str) -> None:
    print(redact(f"opsuite: {line}"), flush=True)


if __name__ == "__main__":
    sys.exit(main())
