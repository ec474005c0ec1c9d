"""What runs: the serving TAG, services' health, volumes, HTTP readiness and smoke checks, tool versions."""
