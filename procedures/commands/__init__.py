"""Pure argv builders: each returns a list[str] and runs nothing."""
