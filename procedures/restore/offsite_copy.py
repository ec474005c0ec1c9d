"""What the remote holds for a restore's evidence: whether the chosen set has a verified offsite copy
(and through crypt), and the newest verified offsite set, whose age when the run ends is the RPO: the
data lost if the server were lost then. Looked up once, after the set was chosen."""

from dataclasses import dataclass
from datetime import datetime, timezone

from ..box import BackupBox
from ..context import OpsContext
from ..errors import OpsError
from ..remote import offsite
from ..sets import names
from ..sets.sets import to_sets, trusted_sets


@dataclass(frozen=True)
class OffsiteCopies:
    """The remote as a restore saw it; `error` says why it could not be listed (then nothing is known)."""

    enabled: bool
    remote: str | None = None
    encrypted: bool = False  # the remote is an rclone crypt remote
    has_set: bool | None = None  # the chosen set's dump and manifest are on it; None: not known
    newest: str | None = None  # the newest verified set on it
    newest_at: datetime | None = None
    error: str | None = None

    def rpo_seconds(self, at: datetime) -> float | None:
        """The age of the newest verified offsite set at `at`; None when there is none or it is not known."""
        return None if self.newest_at is None else round((at - self.newest_at).total_seconds(), 1)


def from_listing(filenames: list[str], identity: names.Identity, set_name: str, remote: str, encrypted: bool,
                 now: datetime) -> OffsiteCopies:
    """The copies a remote's file names hold: is set_name there verified, and which verified set is newest."""
    sets, _ = to_sets(filenames, identity)
    trusted, _ = trusted_sets(filenames, identity, now)
    newest = trusted[0] if trusted else None
    return OffsiteCopies(True, remote, encrypted, any(s.name == set_name and s.verified for s in sets),
                         newest.name if newest else None, newest.taken_at if newest else None)


def look_up(ctx: OpsContext, box: BackupBox, set_name: str, identity: names.Identity) -> OffsiteCopies:
    """The remote's copies of this stack; a remote that cannot be listed is recorded, never fatal: the
    restore itself does not need it."""
    cfg = ctx.config
    if not cfg.offsite.enabled:
        return OffsiteCopies(False)
    path = cfg.offsite.path(cfg.stack.environment)
    try:
        status, listed = offsite.reach(box, path)
        listing = [f.name for f in listed]
    except OpsError as e:
        return OffsiteCopies(True, path, error=str(e).splitlines()[0] if str(e) else type(e).__name__)
    return from_listing(listing, identity, set_name, status.path, status.crypt, datetime.now(timezone.utc))
