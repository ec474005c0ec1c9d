"""Build step: keep only this release's migrations and record how the release behaves."""

import json
import sys
from pathlib import Path

here = Path(__file__).parent
releases = json.loads((here / "releases.json").read_text())
version = sys.argv[1] if len(sys.argv) > 1 else ""
if version not in releases:
    sys.exit(f"unknown APP_VERSION {version!r}; known: {', '.join(releases)}")
release = releases[version]
for script in (here / "migrations" / "versions").glob("*.py"):
    if script.stem not in release["migrations"]:
        script.unlink()
(here / "app" / "release.json").write_text(json.dumps({"version": version, **release}))
