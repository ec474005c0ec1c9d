"""python -m opsuite: the same as the `opsuite` console script."""

from .cli import main

raise SystemExit(main())
