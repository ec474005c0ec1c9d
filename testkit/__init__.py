"""What tests/ and bench/ share: disposable stacks, running ops checks as users do, looking inside
backups, and the faults tests inject. Never imported by product code."""
