"""Backups: the pipeline, dump, offsite copy with its catalog and fingerprints, clock, retention, prune."""
