"""Settle discovery's proposal for full-stack-fastapi-template into the config the run uses: only the
lines an operator answers by hand (the GUESSes: where the app is reached, which proxy, no /version,
the backup image of the server's major, no offsite remote here). Usage: settle PROPOSAL OUT STATE_DIR"""

import re
import sys

SETTLED = {
    ("stack", "environment"): '"appb"',
    ("stack", "lock_dir"): '"{state}/locks"',
    ("http", "base_url"): '"{base_url}"',
    ("http", "insecure"): "true",
    ("http", "version_path"): '""',
    ("backup", "image"): '"opsuite-local/backup:pg17"',
    ("offsite", "enabled"): "false",
    ("deploy", "state_dir"): '"{state}"',
    ("restore", "sample_queries"): '["SELECT version_num FROM alembic_version", "SELECT email FROM \\"user\\" LIMIT 1"]',
}


def settle(text: str, state: str, base_url: str) -> str:
    lines, section, seen = text.splitlines(), "", set()
    out = []
    for line in lines:
        header = re.match(r"^\[\[?([a-z_.]+)\]\]?\s*$", line)
        if header:
            out.extend(_missing(section, seen, state, base_url))
            section = header[1]
        key = re.match(r"^([a-z_]+)\s*=", line)
        if key and (section, key[1]) in SETTLED:
            seen.add((section, key[1]))
            line = f"{key[1]} = {SETTLED[(section, key[1])].format(state=state, base_url=base_url)}"
        out.append(line)
    out.extend(_missing(section, seen, state, base_url))
    for (sec, key), value in SETTLED.items():  # sections the proposal lacks
        if (sec, key) not in seen and f"[{sec}]" not in text:
            out += ["", f"[{sec}]", f"{key} = {value.format(state=state, base_url=base_url)}"]
            seen.add((sec, key))
    return "\n".join(out) + "\n"


def _missing(section: str, seen: set, state: str, base_url: str) -> list[str]:
    found = [(s, k) for (s, k) in SETTLED if s == section and (s, k) not in seen]
    seen.update(found)
    return [f"{k} = {SETTLED[(s, k)].format(state=state, base_url=base_url)}" for s, k in found]


if __name__ == "__main__":
    proposal, out, state, base_url = sys.argv[1:5]
    open(out, "w").write(settle(open(proposal).read(), state, base_url))
