"""Backup sets: their names, which files make a set, the manifest, verification, the uploads list."""
