"""The `opsuite` command: one subcommand per ops check, run through pytest with the same evidence as
`pytest ops_checks/NAME.py`, plus status, config check, sign-off and shell completion.

Exit codes: 0 done; 1 a step failed (or the run was interrupted); 2 the command line or the config is
wrong (one paragraph on stderr, no traceback, nothing run); 3 an internal error (a bug to report).
"""

import argparse
import json
import sys
import traceback
from pathlib import Path

import shtab

from procedures.errors import ConfigError
from procedures.redact import redact

from . import checks, where
from .checks import INTERNAL, OK, REPORT_A_BUG, STEP_FAILED, USAGE

_CHECK_OPTIONS_TITLE = "options of the ops checks (passed to pytest as they are, with any other pytest option)"


class _PluginOptions:
    """Records the options the pytest plugin declares (runbook_plugin/options.py), so each check's
    subcommand offers, checks, documents and completes exactly those, without a copy of the list."""

    def __init__(self):
        from runbook_plugin.options import pytest_addoption

        self.options: list[tuple[tuple[str, ...], dict]] = []
        pytest_addoption(self)

    def getgroup(self, *args, **kwargs):
        return self

    def addoption(self, *names, **kwargs):
        self.options.append((names, kwargs))

    def addini(self, *args, **kwargs):
        pass


def _add_check_options(parser: argparse.ArgumentParser, plugin: _PluginOptions) -> None:
    group = parser.add_argument_group(_CHECK_OPTIONS_TITLE)
    for names, kwargs in plugin.options:
        if kwargs.get("action") not in ("store_true", "store_false"):  # VERSION-like, not OPS_ENV
            kwargs = {"metavar": names[0].lstrip("-").upper().replace("-", "_"), **kwargs}
        action = group.add_argument(*names, **kwargs)
        if kwargs.get("metavar") in ("FILE", "SET_OR_FILE") or "--ops-config" in names:
            action.complete = shtab.FILE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opsuite", allow_abbrev=False,
        description="Deploys, backups and restores of a Docker Compose stack, each step asserted, each run "
                    "leaving an HTML report and a JSON record under reports/.",
        epilog="Exit codes: 0 done, 1 a step failed, 2 wrong command line or config (nothing run), "
               "3 internal error (report it). The same check as pytest: opsuite deploy --tag=1.1.0 runs "
               "pytest ops_checks/deploy.py --tag=1.1.0.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    plugin = _PluginOptions()
    for name, (module, summary) in checks.COMMANDS.items():
        check = sub.add_parser(name, help=summary, description=f"{summary} (ops_checks/{module}.py)",
                               allow_abbrev=False)
        _add_check_options(check, plugin)
    names = sorted(set(where.check_names()) | set(checks.COMMANDS))  # a file name, or its command's name
    plan = sub.add_parser("plan", help="print the numbered steps of a check, run nothing", allow_abbrev=False)
    plan.add_argument("check", choices=names, metavar="CHECK", help=f"one of: {', '.join(names)}")
    _add_check_options(plan, plugin)
    run = sub.add_parser("run", help="run any ops check by its file name (switch_database_volume, offsite_setup, ...)",
                         allow_abbrev=False)
    run.add_argument("check", choices=names, metavar="CHECK", help=f"one of: {', '.join(names)}")
    _add_check_options(run, plugin)

    status = sub.add_parser("status", help="the stack at a glance: serving TAG, last deploy, newest backup, "
                                           "last drill, freshness, lock holder", allow_abbrev=False)
    _add_ops_config(status)
    status.add_argument("--json", action="store_true", help="print it as JSON")
    config = sub.add_parser("config", help="the ops config", allow_abbrev=False)
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    _add_ops_config(config_sub.add_parser("check", help="load and check the ops config, run nothing",
                                          allow_abbrev=False))
    sign = sub.add_parser("sign", help="sign a complete green run's report off (recorded and shown in it)",
                          allow_abbrev=False)
    sign.add_argument("report", metavar="REPORT", help="the run's HTML report, reports/CHECK/STAMP.html"
                      ).complete = shtab.FILE
    sign.add_argument("--by", required=True, metavar="NAME", help="who signs it off")
    completion = sub.add_parser("completion", help="print a shell completion script", allow_abbrev=False,
                                epilog='bash: opsuite completion bash > /etc/bash_completion.d/opsuite; '
                                       'zsh: opsuite completion zsh > "${fpath[1]}/_opsuite"')
    completion.add_argument("shell", choices=("bash", "zsh"))
    return parser


def _add_ops_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ops-config", metavar="FILE",
                        help="the stack's TOML config (default: $OPSUITE_CONFIG, else ops.toml of the checkout)"
                        ).complete = shtab.FILE


def _after(argv: list[str], token: str) -> list[str]:
    """What followed `token` (a subcommand or a check's name) on the command line, as typed."""
    return argv[argv.index(token) + 1:]


def _run_check(args, argv: list[str]) -> int:
    rest = _after(argv, args.command)
    if args.command in ("plan", "run"):
        module = checks.COMMANDS[args.check][0] if args.check in checks.COMMANDS else args.check
        plan = ["--plan"] if args.command == "plan" else []
        return checks.run(module, checks.relative_to_here(plan + _without_first(rest, args.check)))
    return checks.run(checks.COMMANDS[args.command][0], checks.relative_to_here(rest))


def _without_first(args: list[str], value: str) -> list[str]:
    index = args.index(value)
    return args[:index] + args[index + 1:]


def _status(args) -> int:
    from runbook_plugin.history.status import format_status, stack_status  # the status part's module

    found = stack_status(where.ops_config_path(args.ops_config), where.reports())
    print(json.dumps(found, indent=2, sort_keys=True, default=str) if args.json else format_status(found))
    return OK


def _config_check(args) -> int:
    from procedures.load import load_config

    path = where.ops_config_path(args.ops_config)
    cfg = load_config(path)
    services = ", ".join(s for s in (cfg.services.database, *cfg.services.app, cfg.services.proxy) if s)
    print(f"config OK: {path}\n  project {cfg.stack.project} ({cfg.stack.environment}), "
          f"engine {cfg.database.engine}, services {services or 'none named'}")
    return OK


def _sign(args) -> int:
    from runbook_plugin.signoff import sign  # the evidence part's module

    signed = sign(Path(args.report).expanduser().resolve(), args.by)
    print(f"signed off: {args.report} by {signed.get('signed_off_by', args.by)}"
          + (f" at {signed['signed_off_at']}" if signed.get("signed_off_at") else ""))
    return OK


def _completion(args, parser: argparse.ArgumentParser) -> int:
    # shtab (small, pure Python, no dependencies) writes a static script from this parser's own
    # subcommands, options and choices: nothing hand-kept that could drift from the parser.
    print(shtab.complete(parser, shell=args.shell))
    return OK


def _dispatch(argv: list[str]) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if args.command in checks.COMMANDS or args.command in ("plan", "run"):
        return _run_check(args, argv)
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "status":
        return _status(args)
    if args.command == "config":
        return _config_check(args)
    if args.command == "sign":
        return _sign(args)
    return _completion(args, parser)


def main(argv: list[str] | None = None) -> int:
    """Run one opsuite command; returns its exit code (0, 1, 2 or 3: the module's docstring)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return _dispatch(argv)
    except SystemExit as e:  # argparse: --help (0), a wrong command line (2, its message printed)
        return e.code if isinstance(e.code, int) else (OK if e.code is None else USAGE)
    except ConfigError as e:  # UsageError too: the operator's to fix, one paragraph, nothing run
        print(f"opsuite: {redact(str(e))}", file=sys.stderr)
        return USAGE
    except KeyboardInterrupt:
        print("opsuite: interrupted", file=sys.stderr)
        return STEP_FAILED
    except Exception as e:
        print(f"opsuite: internal error: {type(e).__name__}: {redact(str(e))}\n{REPORT_A_BUG}\n", file=sys.stderr)
        traceback.print_exc()  # below the paragraph: what the bug report needs
        return INTERNAL
