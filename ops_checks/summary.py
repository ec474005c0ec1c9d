"""What each runbook's run tells the report's summary header, read from what its steps already found.

A check registers its run once (`runbook_summary.read(summary.deploy, run)`); the reader is called when
the session ends, so it sees every step's result, a failed one's too. A reader returns only the
facts its run has: `what` (the run in plain words), `tag`, `revision`, `backup_set`,
`backup_seconds`, `drill`, `changed`, `outcome_detail`, `advice`, `risks` (what the run is expected to
have cost users although it passed: listed under the header's issues).
"""

from procedures.release import deploy as deploy_runbook
from procedures.runbook import TEST_MODE


def _change(before, after) -> dict | None:
    """A from -> to pair, or None when neither side is known."""
    return None if before is None and after is None else {"from": before, "to": after}


def _set_bytes(dump_bytes: int, uploads: dict | None) -> int:
    """The set's own files: the dump, the uploads archive (archive mode) and the uploads file list."""
    if not uploads:
        return dump_bytes
    return dump_bytes + (uploads.get("size", 0) if "file" in uploads else 0) + uploads.get("list", {}).get("size", 0)


def _backup_set(name: str, dump_bytes: int, sha256: str, uploads: dict | None, offsite: bool,
                encrypted: bool) -> dict:
    size = _set_bytes(dump_bytes, uploads)
    return {"name": name, "size_bytes": size, "dump_bytes": dump_bytes, "sha256": sha256, "offsite": offsite,
            "encrypted": offsite and encrypted, "offsite_bytes": size if offsite else None}


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
    return {**facts, "risks": risks} if risks else facts


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


def restore(run) -> dict:
    """The set restored, RTO and RPO as the drill measured them, the row-count verdict; in disaster
    mode what the switch changed and how to switch back."""
    record = run.record
    facts = {"what": "Restore drill" if run.mode == TEST_MODE else "Disaster restore"}
    if run.chosen is not None:
        dump = run.chosen.manifest["dump"]
        facts["backup_set"] = _backup_set(run.chosen.set_name, dump["size"], dump["sha256"],
                                          run.chosen.manifest.get("uploads"), run.options.from_remote,
                                          bool(run.chosen.decrypted_through))
        facts["drill"] = {"rto_seconds": record.get("rto_seconds"), "rpo_seconds": record.get("rpo_seconds"),
                          "row_counts": _verdict(record.get("row_counts"))}
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
