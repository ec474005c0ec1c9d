"""Apply retention to the local directory and the remote folder, and prove the result by listing.

The keep/delete decision is the pure `retention.decide` over a complete listing; this module refuses
a listing it has reason to doubt, refuses more deletions than [retention] max_deletions_per_run
unless allowed, deletes only what was decided, and lists once more to prove every kept set remains.
"""

from dataclasses import dataclass, replace
from datetime import datetime

from ..box import BackupBox
from ..commands import files as files_cmd
from ..errors import UnsafeOperation
from ..remote import offsite
from ..sets import files, names
from ..sets.sets import files_of, to_sets
from . import catalog, retention


@dataclass(frozen=True)
class PruneResult:
    where: str
    identity: names.Identity
    policy: retention.RetentionPolicy
    decision: retention.RetentionDecision
    deleted_files: list[str]
    listing_after: list[str]
    deferred: str | None = None  # why nothing was pruned though retention would (catalog.first_sight)
    unverified: list[str] = ()  # sets whose remote copy disagrees with its size or recorded hash

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


@dataclass(frozen=True)
class Limits:
    """What bounds one run's deletions: [retention] min_sets and max_deletions_per_run, and whether the
    operator said --allow-mass-prune."""

    min_sets: int = 0
    max_deletions: int = 10**9
    allow_mass_prune: bool = False


def _doomed(filenames: list[str], identity: names.Identity, policy: retention.RetentionPolicy, now: datetime,
            limits: Limits, where: str, unverified: set[str] = frozenset()):
    sets, _ = to_sets(filenames, identity)
    sets = [replace(s, verified=False) if s.name in unverified else s for s in sets]
    decision = retention.decide(sets, policy, now, limits.min_sets)
    retention.check_cap(decision, where, limits.max_deletions, limits.allow_mass_prune)
    return decision, [n for item in decision.delete for n in files_of(item.set.name, filenames)]


def missing_from(listing: list[str], must_have: set[str], identity: names.Identity) -> list[str]:
    """The sets a listing should show and does not."""
    return sorted(must_have - set(names.group_files(listing, identity)))


def _refuse_partial(where: str, missing: list[str], why: str) -> None:
    if missing:
        raise UnsafeOperation(
            f"not pruning {where}: its listing lacks {len(missing)} sets {why} ({', '.join(missing[:3])}"
            f"{', ...' if len(missing) > 3 else ''}). A listing that hides files (a partial answer, a filter, a "
            "wrapper) would make retention decide on part of the history; nothing was deleted. List it by hand "
            "(rclone lsf / ls) and find why")


def _prove(result: "PruneResult") -> "PruneResult":
    _refuse_partial(result.where, sorted(result.expected_sets - result.sets_after),
                    "retention kept, after pruning (deleted by someone else meanwhile, or hidden)")
    return result


def prune_local(box: BackupBox, directory: str, filenames: list[str], identity: names.Identity,
                policy: retention.RetentionPolicy, now: datetime, limits: Limits = Limits()) -> PruneResult:
    """Delete identity's local files retention does not keep, given the directory's current file names."""
    decision, doomed = _doomed(filenames, identity, policy, now, limits, directory)
    if doomed:
        box.run(files_cmd.remove([f"{directory}/{n}" for n in doomed]), limit="command")
    after = [f.name for f in files.list_files(box, directory)]
    return _prove(PruneResult("local", identity, policy, decision, doomed, after))


def _deferred(where: str, filenames: list[str], identity: names.Identity, policy: retention.RetentionPolicy,
              why: str, unverified: set[str]) -> PruneResult:
    """Keep every listed set: the decision the evidence shows when pruning waits for the next run."""
    sets, _ = to_sets(filenames, identity)
    keep = tuple(retention.Kept(replace(s, verified=s.verified and s.name not in unverified),
                                "kept: remote pruning deferred (first run on this host)") for s in sets)
    decision = retention.RetentionDecision(tuple(sorted(keep, key=lambda v: v.set.taken_at, reverse=True)), ())
    return PruneResult(where, identity, policy, decision, [], filenames, why, sorted(unverified))


def prune_remote(box: BackupBox, status: offsite.RemoteStatus, listing: list[offsite.RemoteFile],
                 identity: names.Identity, policy: retention.RetentionPolicy, now: datetime,
                 limits: Limits = Limits(), must_have: set[str] = frozenset(),
                 local_sizes: dict[str, int] | None = None, remembered: set[str] | None = frozenset(),
                 damaged: set[str] = frozenset()) -> PruneResult:
    """Delete identity's remote files retention does not keep, given a fresh listing of the remote folder
    (names and sizes). must_have: sets that are on the remote for certain (uploaded and checked this run);
    remembered: the sets it held after the last pruning here (catalog.py), None when this host never
    recorded it: then, if the remote holds sets this run did not check, nothing is pruned (the result says
    why). A listing without a remembered set that the policy keeps is partial and refused. A set whose remote
    file differs in size from the local copy, or is in `damaged` (its size or hash differs from the one
    recorded), is not counted as verified."""
    filenames = [f.name for f in listing]
    _refuse_partial(status.path, missing_from(filenames, set(must_have), identity),
                    "this run uploaded or found there and checked")
    sizes = local_sizes or {}
    short = {parsed.name for f in listing
             if f.name in sizes and f.size != sizes[f.name] and (parsed := names.parse_set_name(f.name)) is not None}
    identity_sets = set(names.group_files(filenames, identity))
    unverified = (short | set(damaged)) & identity_sets
    why = catalog.first_sight(identity_sets, remembered, set(must_have))
    if why:
        return _deferred(status.path, filenames, identity, policy, why, unverified)
    _refuse_partial(status.path, catalog.missing_but_kept(to_sets(filenames, identity)[0], remembered or set(),
                                                          policy, now, limits.min_sets),
                    "it held after the last pruning here and the policy still keeps")
    decision, doomed = _doomed(filenames, identity, policy, now, limits, status.path, unverified)
    offsite.delete(box, status, doomed)
    # Nothing deleted: the listing just judged is the proof (the run wrote nothing there since).
    after = [f.name for f in offsite.list_remote(box, status.path)] if doomed else filenames
    return _prove(PruneResult(status.path, identity, policy, decision, doomed, after, None, sorted(unverified)))
