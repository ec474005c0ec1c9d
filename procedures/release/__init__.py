"""Releases by TAG: install, deploy, rollback and the tag rules."""
