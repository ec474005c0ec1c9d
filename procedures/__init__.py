"""The runbook as plain Python: deploy, backup and restore procedures for a Docker Compose stack."""
