"""What each runbook's run tells the report's summary header, read from what its steps already found.

A check registers its run once (`runbook_summary.read(summary.deploy, run)`); the reader is called when
the session ends, so it sees every step's result, a failed one's too. A reader returns only the
facts its run has: `what` (the run in plain words), `tag`, `revision`, `backup_set`,
`backup_seconds`, `drill`, `restored_from`, `changed`, `outcome_detail`, `advice`, `risks` (what the run is
expected to have cost users although it passed: listed under the header's issues), `warnings` (what an
auditor must see even on a green run: an irreversible deploy, a service recreated rather than switched
start-first).
"""

from datetime import datetime, timezone

from procedures.release import deploy as deploy_runbook
from procedures.release import rollback_check, switch_plan
from procedures.runbook import TEST_MODE


def _change(before, after) -> dict | None:
    """A from -> to pair, or None when neither side is known."""
    return None if before is None and after is None else {"from": before, "to": after}


def _set_bytes(dump_bytes: int, uploads: dict | None) -> int:
    """The set's own files: the dump, the uploads archive (archive mode) and the uploads file list."""
    if not uploads:
        return dump_bytes
    return dump_bytes + (uploads.get("size", 0) if "file" in uploads else 0) + uploads.get("list", {}).get("size", 0)


def _backup_set(name: str, dump_bytes: int, sha256: str, uploads: dict | None, offsite: bool | None,
                encrypted: bool) -> dict:
    """The set's facts; offsite None: whether the remote holds it is not known (then neither is encrypted)."""
    size = _set_bytes(dump_bytes, uploads)
    return {"name": name, "size_bytes": size, "dump_bytes": dump_bytes, "sha256": sha256, "offsite": offsite,
            "encrypted": None if offsite is None else bool(offsite and encrypted),
            "offsite_bytes": size if offsite else None}


def _seconds(timings: dict) -> float | None:
    """The backup's own work: dump, uploads and offsite copy (listing and pruning aside)."""
    return round(sum(timings.values()), 3) if timings else None


def backup_result(result) -> dict:
    """The set a BackupResult (deploy's or adoption's backup step) wrote, and its duration."""
    offsite = result.remote is not None and result.set_name in result.remote.sets_after
    crypt = bool(result.remote_status and result.remote_status.crypt)
    return {"backup_set": _backup_set(result.set_name, result.dump_size, result.sha256, result.manifest.get("uploads"),
                                      offsite, crypt),
            "backup_seconds": _seconds(result.timings)}


def backup(run) -> dict:
    """The nightly backup: the set it wrote (once dumped), offsite when its dump is in the remote's listing."""
    facts = {"what": "Backup", "backup_seconds": _seconds(run.timings)}
    if run.dump is not None:
        offsite = run.dump.path.rsplit("/", 1)[-1] in run.remote_files
        facts["backup_set"] = _backup_set(run.set_name, run.dump.size, run.dump.sha256, run.uploads, offsite,
                                          bool(run.remote and run.remote.crypt))
    return facts


def _moved(how: str) -> str:
    return "switched start-first" if how == "start-first" else "recreated"


def recreated_warnings(app_services, moved: list[dict]) -> list[str]:
    """An app service the switch recreated (or stopped first) rather than switched start-first: its
    requests fail from the old container's stop until the new one answers."""
    return [f"{m['service']} was {'stopped first' if m['how'] == switch_plan.STOP_FIRST else 'recreated'}, not "
            f"switched start-first ({m.get('why') or 'no reason recorded'}): its requests fail from the old "
            "container's stop until the new one answers"
            for m in moved if m.get("service") in app_services and m.get("how") != switch_plan.START_FIRST]


def irreversible_warning(run) -> list[str]:
    """A deploy given --allow-irreversible whose rollback check found the serving release cannot run after
    the new migrations, once those migrations ran."""
    verdict = getattr(run, "rollback_check", None) or {}
    if not (getattr(run, "allow_irreversible", False) and verdict.get("rollback") == rollback_check.UNSAFE
            and run.revision_after is not None):
        return []
    return [f"IRREVERSIBLE deploy (--allow-irreversible): the rollback check found {verdict.get('previous_tag')} "
            f"cannot run after {verdict.get('tag')}'s migrations ({verdict.get('why')}); an app-only rollback will "
            f"not work, a rollback needs the database restored from backup {verdict.get('backup')}"]


def deploy(run) -> dict:
    """TAG and schema revision from -> to, the backup taken first, and on failure the ledger's outcome
    and the procedure's own advice (database restore, manual rollback)."""
    built = f", built from commit {run.build.commit[:12]} in {run.build.seconds:g} s" if run.build else ""
    facts = {"what": f"Deploy of {run.tag}{built}", "tag": _change(run.previous_tag, run.tag),
             "revision": _change(run.revision_before, run.revision_after)}
    if run.backup is not None:
        facts.update(backup_result(run.backup))
    risks = [f"{s.service} was {_moved(s.how)}: {s.expected_failures}"
             for s in (getattr(run, "plan", None) or ([], None))[0] if s.expected_failures]
    if risks:
        facts["risks"] = risks
    moved = (getattr(run, "switch", None) or {}).get("services") or []  # none before the up step ran
    warnings = irreversible_warning(run) + (recreated_warnings(run.ctx.config.services.app, moved) if moved else [])
    if warnings:
        facts["warnings"] = warnings
    if run.outcome and run.outcome != "deployed":
        facts["outcome_detail"] = f'the release ledger records "{run.outcome}"'
        facts["advice"] = [advice for advice in (
            deploy_runbook.rollback_advice(run),
            f"database restore needed: {deploy_runbook.database_restore_advice(run)}") if advice]
    return facts


def rollback(run) -> dict:
    """TAG from -> to; the schema is not touched, so its revision is the same on both sides."""
    moved = ((getattr(run, "result", None) or {}).get("switch") or {}).get("services") or []  # none before redeploy ran
    facts = {"what": f"Rollback to {run.ctx.tag}", "tag": _change(run.from_tag, run.ctx.tag),
             "revision": _change(run.revision, run.revision) if run.revision else None}
    risks = [f"{s['service']} was {_moved(s['how'])}: {s['expected_failures']}" for s in moved if s.get("expected_failures")]
    warnings = recreated_warnings(run.ctx.config.services.app, moved) if moved else []
    return {**facts, **({"risks": risks} if risks else {}), **({"warnings": warnings} if warnings else {})}


def install(run) -> dict:
    """TAG installed (from what served, usually nothing); the revision a new database was migrated to."""
    after = (run.entry or {}).get("revision_after")
    before = None if run.migrated is None or run.migrated.ran else after
    return {"what": f"Install of {run.ctx.tag}", "tag": _change(run.serving, run.ctx.tag),
            "revision": _change(before, after) if run.entry else None}


def adopt(run) -> dict:
    """The serving TAG kept (never migrated) and the first backup taken before the take-over."""
    facts = {"what": f"Adoption of {run.ctx.config.stack.project} at {run.ctx.tag or 'its serving TAG'}",
             "tag": _change(run.ctx.tag, run.ctx.tag) if run.ctx.tag else None}
    if run.entry:
        facts["revision"] = _change(run.entry.get("revision_after"), run.entry.get("revision_after"))
    if run.backup is not None:
        facts.update(backup_result(run.backup))
    return facts


def _verdict(rows: list[dict] | None) -> str | None:
    return None if rows is None else "match" if all(r["match"] for r in rows) else "differ"


def restored_from(run) -> dict:
    """Where the restore read the set from: the local backup directory, or the remote (decrypted through
    its crypt remote, or not)."""
    if run.options.from_remote:
        copies = getattr(run, "offsite", None)
        return {"where": "offsite", "remote": copies.remote if copies else None,
                "decrypted_through": run.chosen.decrypted_through or None}
    return {"where": "local", "remote": None, "decrypted_through": None}


def _has_offsite_copy(run) -> tuple[bool | None, bool]:
    """Whether the chosen set has a verified offsite copy (None: not known), and whether through crypt."""
    if run.options.from_remote:
        return True, bool(run.chosen.decrypted_through)
    copies = getattr(run, "offsite", None)
    if copies is None or (copies.enabled and copies.error):
        return None, False
    return bool(copies.has_set), copies.encrypted


def recovery(run, ended: datetime) -> dict:
    """RTO as the drill measured it (decision to verified, or to serving); RPO the age of the newest
    verified offsite set when the run ended, against [freshness] offsite_max_age_hours."""
    record, copies = run.record, getattr(run, "offsite", None)
    rpo = copies.rpo_seconds(ended) if copies is not None and record.get("rto_seconds") is not None else None
    limit = run.ctx.config.freshness.offsite_max_age_hours * 3600 if copies is not None and copies.enabled else None
    return {"rto_seconds": record.get("rto_seconds"), "rpo_seconds": rpo,
            "row_counts": _verdict(record.get("row_counts")),
            "rto_from": "decision (the run's start, before the set was chosen and downloaded)",
            "rto_to": "verified" if run.mode == TEST_MODE else "serving",
            "restore_seconds": record.get("restore_seconds"), "set_age_seconds": record.get("set_age_seconds"),
            "rpo_set": copies.newest if copies is not None else None,
            "rpo_limit_seconds": limit, "rpo_within": None if rpo is None or limit is None else rpo <= limit}


def _offsite_warnings(run) -> list[str]:
    copies = getattr(run, "offsite", None)
    if copies is None:
        return []
    if not copies.enabled:
        return ["no offsite copy ([offsite] enabled = false): a lost server loses every set; RPO not measured"]
    if copies.error:
        return [f"the remote {copies.remote} could not be listed ({copies.error}): whether the set has an offsite "
                "copy, and the RPO, are not known"]
    if copies.newest is None:
        return [f"no verified set on the remote {copies.remote}: a lost server loses every set"]
    return []


def restore(run) -> dict:
    """The set restored and where it was read from, whether it has an offsite copy, RTO and RPO, the
    row-count verdict; in disaster mode what the switch changed and how to switch back."""
    record = run.record
    facts = {"what": "Restore drill" if run.mode == TEST_MODE else "Disaster restore"}
    if run.chosen is not None:
        dump = run.chosen.manifest["dump"]
        offsite, encrypted = _has_offsite_copy(run)
        facts["backup_set"] = _backup_set(run.chosen.set_name, dump["size"], dump["sha256"],
                                          run.chosen.manifest.get("uploads"), offsite, encrypted)
        facts["restored_from"] = restored_from(run)
        facts["drill"] = recovery(run, datetime.now(timezone.utc))
        if _offsite_warnings(run):
            facts["warnings"] = _offsite_warnings(run)
    changed = [f"{what} {record[old]} -> {record[new]}" for what, old, new in (
        ("database volume", "old_volume", "new_volume"), ("uploads volume", "old_uploads_volume", "new_uploads_volume"),
        ("database", "old_database", "new_database"))
        if record.get(old) and record.get(new)]
    if changed:
        facts["changed"] = changed + [f"switch back: {record['switch_back']}"] * bool(record.get("switch_back"))
    advice = [f"switch back: {record['switch_back']}"] if record.get("switch_back") else []
    if run.keeps_server and run.server is not None:
        advice.append(run.server.how_to_connect())
    facts["advice"] = advice
    return facts


def volume_switch(run) -> dict:
    """The database (and uploads) volume from -> to, and the command that switches back."""
    facts = {"what": f"Switch of the database to volume {run.target or '(none given)'}"}
    if run.result is not None:
        moved = run.result
        facts["changed"] = [f"database volume {moved.from_volume} -> {moved.to_volume}"] + (
            [f"uploads volume {moved.from_uploads_volume} -> {moved.to_uploads_volume}"]
            if moved.to_uploads_volume else []) + [f"switch back: {moved.how_to_switch_back()}"]
    return facts


def url_switch(run) -> dict:
    """The URL's database from -> to, and the command that switches back."""
    facts = {"what": f"Switch of the app to database {run.target or '(none given)'}"}
    if run.result is not None:
        facts["changed"] = [f"database {run.result.from_database} -> {run.result.to_database}",
                            f"switch back: {run.result.how_to_switch_back()}"]
    return facts
