"""Backups: the pipeline, sets and their names, dump and verify, manifest, offsite copy, retention, prune."""
