"""Registers the runbook plugin (options, step order and blocking, evidence, records): runbook_plugin/."""

pytest_plugins = ["runbook_plugin"]
