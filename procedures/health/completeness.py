"""Whether a run's record counts as a whole run: the rule freshness and the history share."""


def incomplete_reason(record: dict) -> str | None:
    """Why the run of this record is not a whole run (not every step its runbook defines ran), or None.
    A record written before records said so (no `complete`) with no step at all is incomplete too:
    that is what `--collect-only` left."""
    if record.get("complete") is False or record.get("outcome") == "incomplete":
        return f"incomplete: {record.get('steps_run')} of {record.get('steps_defined')} steps ran"
    if "complete" not in record and record.get("steps") == []:
        return "incomplete: no step ran (a record written before records counted their steps)"
    return None
