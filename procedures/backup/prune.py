"""Apply retention to the local directory and the remote folder, and prove the result by listing.

The keep/delete decision is the pure `retention.decide`; this module only deletes what it decided
and lists once more to prove what remains.
"""

from dataclasses import dataclass
from datetime import datetime

from ..commands import files as files_cmd
from . import files, names, offsite, retention
from .box import BackupBox
from .sets import files_of, to_sets


@dataclass(frozen=True)
class PruneResult:
    where: str
    identity: names.Identity
    policy: retention.RetentionPolicy
    decision: retention.RetentionDecision
    deleted_files: list[str]
    listing_after: list[str]

    @property
    def sets_after(self) -> set[str]:
        """This stack's sets that remain (others' are never counted, kept or deleted)."""
        return set(names.group_files(self.listing_after, self.identity))

    @property
    def left_alone(self) -> list[str]:
        """Sets in the same place that are not this stack's: untouched."""
        return names.others(self.listing_after, self.identity)

    @property
    def expected_sets(self) -> set[str]:
        return retention.expected_listing(self.decision)


def _doomed(filenames: list[str], identity: names.Identity, policy: retention.RetentionPolicy, now: datetime):
    sets, _ = to_sets(filenames, identity)
    decision = retention.decide(sets, policy, now)
    return decision, [n for item in decision.delete for n in files_of(item.set.name, filenames)]


def prune_local(box: BackupBox, directory: str, filenames: list[str], identity: names.Identity,
                policy: retention.RetentionPolicy, now: datetime) -> PruneResult:
    """Delete identity's local files retention does not keep, given the directory's current file names."""
    decision, doomed = _doomed(filenames, identity, policy, now)
    if doomed:
        box.run(files_cmd.remove([f"{directory}/{n}" for n in doomed]), limit="command")
    after = [f.name for f in files.list_files(box, directory)]
    return PruneResult("local", identity, policy, decision, doomed, after)


def prune_remote(box: BackupBox, status: offsite.RemoteStatus, filenames: list[str], identity: names.Identity,
                 policy: retention.RetentionPolicy, now: datetime) -> PruneResult:
    """Delete identity's remote files retention does not keep, given the remote folder's current file names."""
    decision, doomed = _doomed(filenames, identity, policy, now)
    offsite.delete(box, status, doomed)
    after = [f.name for f in offsite.list_remote(box, status.path)]
    return PruneResult(status.path, identity, policy, decision, doomed, after)
