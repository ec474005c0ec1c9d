"""python -m opsuite: the same as the `opsuite` console script."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
