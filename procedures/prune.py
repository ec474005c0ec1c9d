"""Apply retention to the local directory and the remote folder, and prove the result by listing.

The keep/delete decision is the pure `retention.decide`; this module only lists and deletes.
"""

from dataclasses import dataclass
from datetime import datetime

from . import backup_files, backup_names, offsite, retention
from .backup_box import BackupBox
from .commands import files as files_cmd


@dataclass(frozen=True)
class PruneResult:
    where: str
    policy: retention.RetentionPolicy
    decision: retention.RetentionDecision
    deleted_files: list[str]
    listing_after: list[str]

    @property
    def sets_after(self) -> set[str]:
        return set(backup_names.group_files(self.listing_after))

    @property
    def expected_sets(self) -> set[str]:
        return retention.expected_listing(self.decision)


def to_sets(names: list[str]) -> tuple[list[retention.BackupSet], dict[str, set[str]]]:
    """Backup sets from file names; a set counts as verified only when its manifest exists."""
    groups = backup_names.group_files(names)
    sets = []
    for set_name, kinds in groups.items():
        parsed = backup_names.parse_set_name(set_name)
        sets.append(retention.BackupSet(set_name, parsed.taken_at, "manifest" in kinds and "dump" in kinds))
    return sets, groups


def _files_of(set_name: str, names: list[str]) -> list[str]:
    return [n for n in names if backup_names.parse_set_name(n) is not None
            and n.startswith(set_name + ".")]


def prune_local(box: BackupBox, directory: str, policy: retention.RetentionPolicy, now: datetime) -> PruneResult:
    names = [f.name for f in backup_files.list_files(box, directory)]
    sets, _ = to_sets(names)
    decision = retention.decide(sets, policy, now)
    doomed = [n for item in decision.delete for n in _files_of(item.set.name, names)]
    if doomed:
        box.run(files_cmd.remove([f"{directory}/{n}" for n in doomed]))
    after = [f.name for f in backup_files.list_files(box, directory)]
    return PruneResult("local", policy, decision, doomed, after)


def prune_remote(box: BackupBox, status: offsite.RemoteStatus, policy: retention.RetentionPolicy,
                 now: datetime) -> PruneResult:
    names = [f.name for f in offsite.list_remote(box, status.path)]
    sets, _ = to_sets(names)
    decision = retention.decide(sets, policy, now)
    doomed = [n for item in decision.delete for n in _files_of(item.set.name, names)]
    offsite.delete(box, status, doomed)
    after = [f.name for f in offsite.list_remote(box, status.path)]
    return PruneResult(status.path, policy, decision, doomed, after)
