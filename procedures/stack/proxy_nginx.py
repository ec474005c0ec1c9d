"""nginx's effective config, as `nginx -T` prints it, read with crossplane (nginx's own project's parser)
rather than by pattern: every file the dump holds is parsed, its `include`s spliced in where they stand,
and each `proxy_pass` followed through variables (`set`) and `upstream` blocks to the service it reaches.

A switch without failed requests needs nginx to look the service's name up again while it runs (a
variable in `proxy_pass` with a `resolver` whose `valid=` is short, or an upstream `server ... resolve`)
and to retry a refused connection on the other address (`proxy_next_upstream`, on by default). A name
written in `proxy_pass` or in an `upstream` block is resolved once, at nginx's start.
"""

import re
import tempfile
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import crossplane

from .proxy_view import RUNBOOK, ProxyView, Upstream, host_port

# Longer than this between nginx's look-ups of a name, and the old container's address is used
# long after it is gone (Docker's DNS answers carry a 600 s TTL, which nginx keeps without valid=).
MAX_RESOLVER_VALID_SECONDS = 30
MAIN_FILE = "/etc/nginx/nginx.conf"
DOCKER_RESOLVER = "resolver 127.0.0.11 valid=5s ipv6=off;"
PASSES = ("proxy_pass", "uwsgi_pass", "grpc_pass", "fastcgi_pass", "scgi_pass")
_FILE_MARK = re.compile(r"^# configuration file (.+):$", re.M)


def split_dump(dump: str) -> dict[str, str]:
    """Each file of an `nginx -T` dump by its path, in the dump's order (a text without the marks is
    one file, nginx's main config)."""
    marks = list(_FILE_MARK.finditer(dump))
    if not marks:
        return {MAIN_FILE: dump}
    ends = [m.start() for m in marks[1:]] + [len(dump)]
    return {m[1]: dump[m.end():end] for m, end in zip(marks, ends)}


def _parse_files(files: dict[str, str]) -> dict[str, list[dict]]:
    """Each file's directives as crossplane parses them, includes left in place; a file nginx accepted
    but crossplane cannot read raises ValueError naming it."""
    parsed = {}
    with tempfile.TemporaryDirectory(prefix="opsuite-nginx-") as folder:
        for i, (path, text) in enumerate(files.items()):
            copy = Path(folder) / f"{i}.conf"
            copy.write_text(text, encoding="utf-8")
            payload = crossplane.parse(str(copy), single=True, check_ctx=False, check_args=False)
            errors = payload["config"][0]["errors"]
            if errors:
                raise ValueError(f"crossplane could not read {path} from `nginx -T`: "
                                 f"{errors[0]['error'].split(' in ')[0]} (line {errors[0]['line']})")
            parsed[path] = payload["config"][0]["parsed"]
    return parsed


def _splice(directives: list[dict], path: str, parsed: dict[str, list[dict]], prefix: str, depth: int = 0) -> list[dict]:
    """The directives with each `include` replaced by the included files' (nginx's glob, sorted), every
    directive tagged with the file it is written in."""
    out = []
    for directive in directives:
        directive = {**directive, "file": path}
        if directive["directive"] == "include" and directive["args"] and depth < 20:
            pattern = directive["args"][0]
            pattern = pattern if pattern.startswith("/") else str(PurePosixPath(prefix) / pattern)
            for name in sorted(n for n in parsed if fnmatch(n, pattern)):
                out += _splice(parsed[name], name, parsed, prefix, depth + 1)
            continue
        if "block" in directive:
            directive["block"] = _splice(directive["block"], path, parsed, prefix, depth)
        out.append(directive)
    return out


def config_tree(dump: str) -> list[dict]:
    """nginx's whole config as one crossplane tree, includes spliced in (each directive with its file)."""
    files = split_dump(dump)
    parsed = _parse_files(files)
    main = next(iter(files))
    return _splice(parsed[main], main, parsed, str(PurePosixPath(main).parent))


def _seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m|h)?", value)
    return int(match[1]) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[match[2]] if match else 0.0


@dataclass(frozen=True)
class _Scope:
    """What a block inherits: variables set so far, resolvers, and whether retries are off."""
    variables: dict = field(default_factory=dict)
    resolver_valid: tuple = ()  # one entry per `resolver`: its valid= in seconds, 0 when absent
    retries_off: frozenset = frozenset()  # the modules (proxy, uwsgi, ...) whose *_next_upstream is off


@dataclass(frozen=True)
class _Server:
    """One `server` line of an `upstream` block (block_line: where the block starts)."""
    host: str
    port: int
    resolve: bool
    file: str
    line: int
    block_line: int


def _inherit(scope: _Scope, block: list[dict]) -> _Scope:
    variables, valid, retries_off = dict(scope.variables), list(scope.resolver_valid), set(scope.retries_off)
    for d in block:
        args = d["args"]
        if d["directive"] == "set" and len(args) >= 2:
            variables[args[0]] = args[1]
        elif d["directive"] == "resolver":
            valid = [max([_seconds(a.split("=", 1)[1]) for a in args if a.startswith("valid=")], default=0.0)]
        elif d["directive"].endswith("_next_upstream") and args:
            module = d["directive"].split("_", 1)[0]
            retries_off = retries_off | {module} if args == ["off"] else retries_off - {module}
    return _Scope(variables, tuple(valid), frozenset(retries_off))


def _upstream_blocks(tree: list[dict]) -> dict[str, list[_Server]]:
    groups: dict[str, list[_Server]] = {}
    for d in _walk(tree):
        if d["directive"] == "upstream" and d["args"]:
            servers = [s for s in d.get("block", []) if s["directive"] == "server" and s["args"]]
            groups[d["args"][0]] = [_Server(*host_port(s["args"][0], 80), "resolve" in s["args"][1:], s["file"], s["line"],
                                            d["line"]) for s in servers]
    return groups


def _walk(tree: list[dict]):
    for d in tree:
        yield d
        yield from _walk(d.get("block", []))


def _proxy_passes(tree: list[dict], scope: _Scope = _Scope()):
    """Each `proxy_pass` (or uwsgi_pass, grpc_pass, ...) with the scope it runs in."""
    scope = _inherit(scope, tree)
    for d in tree:
        if d["directive"] in PASSES and d["args"]:
            yield d, scope
        if "block" in d:
            yield from _proxy_passes(d["block"], scope)


def _substitute(target: str, variables: dict) -> str:
    for _ in range(5):  # a variable set from another variable
        replaced = re.sub(r"\$\{?(\w+)\}?", lambda m: variables.get(f"${m[1]}", m[0]), target)
        if replaced == target:
            break
        target = replaced
    return target


def _where(d: dict) -> str:
    return f"{d['file']} line {d['line']}"


def _variable_patch(d: dict, service: str, port: int) -> str:
    name = re.sub(r"\W", "_", service)
    path_note = (" (the original names a path after the address: with a variable nginx passes the request's "
                 "URI as it is, so move that path into a `rewrite`)" if re.search(r"//[^/]+/.", d["args"][0]) else "")
    scheme = (re.match(r"\w+://", d["args"][0]) or [""])[0]
    return (f"in {_where(d)}, replace `{d['directive']} {d['args'][0]};` with the lines `{DOCKER_RESOLVER}` "
            f"`set ${name}_upstream {scheme}{service}:{port};` `{d['directive']} ${name}_upstream;`{path_note}")


def _judge_direct(d: dict, scope: _Scope, service: str, port: int) -> tuple[str, str]:
    through_variable = "$" in d["args"][0]
    if not through_variable:
        return (f"static upstream: nginx resolves {service!r} once, at its start (`{d['directive']} {d['args'][0]}` in "
                f"{_where(d)}), and keeps sending to a removed container ({RUNBOOK})", _variable_patch(d, service, port))
    if not scope.resolver_valid:
        return (f"no `resolver` for the variable upstream {d['args'][0]} ({_where(d)}) ({RUNBOOK})",
                f"in {d['file']}, add `{DOCKER_RESOLVER}` in the block of line {d['line']}")
    if max(scope.resolver_valid) == 0 or max(scope.resolver_valid) > MAX_RESOLVER_VALID_SECONDS:
        return (f"`resolver` without a short `valid=`: nginx keeps {service!r}'s old address for the DNS answer's "
                f"TTL (600 s from Docker) ({RUNBOOK})", f"in {d['file']}, give the `resolver` line `valid=5s`")
    return "", ""


def _judge_group(d: dict, scope: _Scope, group: str, server: _Server) -> tuple[str, str]:
    if server.resolve and scope.resolver_valid and 0 < max(scope.resolver_valid) <= MAX_RESOLVER_VALID_SECONDS:
        return "", ""
    problem = (f"upstream block {group!r}: nginx resolves `server {server.host}:{server.port}` ({server.file} line "
               f"{server.line}) once, at its start, and keeps sending to a removed container ({RUNBOOK})")
    patch = (_variable_patch(d, server.host, server.port) + f", then remove the `upstream {group}` block at "
             f"{server.file} line {server.block_line} once no `proxy_pass` names it (nginx resolves its names at "
             f"start, and does not start while {server.host} is down); or, on nginx 1.27.3 and later, give the upstream "
             f"block `zone {group} 64k;` and the server line `resolve` ({server.file} line {server.line}) with "
             f"`{DOCKER_RESOLVER}` in `http`")
    return problem, patch


def _retries_off(problem: str, patch: str, d: dict, scope: _Scope) -> tuple[str, str]:
    module = d["directive"].split("_", 1)[0]
    if problem or module not in scope.retries_off:
        return problem, patch
    return (f"`{module}_next_upstream off` for {_where(d)}: a refused connection to the old container is not retried "
            f"on the new one ({RUNBOOK})", f"remove `{module}_next_upstream off` from {d['file']} (the default retries "
                                           "on `error timeout`)")


def judge(tree: list[dict], services: list[str]) -> ProxyView:
    """The upstreams among services that nginx's `proxy_pass` reaches, each with what would fail a switch
    and the patch that fixes it."""
    groups = _upstream_blocks(tree)
    upstreams: dict[str, Upstream] = {}
    refresh = 0.0
    for d, scope in _proxy_passes(tree):
        target = _substitute(d["args"][0], scope.variables)
        if target.startswith("http://unix:") or "$" in target and "//$" in target:
            continue
        host, port = host_port(target, 80)
        if host in groups:
            found = [(s.host, s.port, *_judge_group(d, scope, host, s)) for s in groups[host] if s.host in services]
        elif host in services:
            found = [(host, port, *_judge_direct(d, scope, host, port))]
        else:
            continue
        refresh = max(refresh, *scope.resolver_valid, 0.0)
        for service, service_port, problem, patch in found:
            problem, patch = _retries_off(problem, patch, d, scope)
            if service not in upstreams or upstreams[service].problem and not problem:
                upstreams[service] = Upstream(service, service_port, f"{problem}; fix: {patch}" if problem else "", patch)
    return ProxyView("nginx", upstreams, refresh_seconds=refresh)


def judge_dump(dump: str, services: list[str]) -> ProxyView:
    """judge() of an `nginx -T` dump; ValueError when crossplane cannot read one of its files."""
    return judge(config_tree(dump), services)

