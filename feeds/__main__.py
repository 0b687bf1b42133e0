"""`python -m feeds` is the `feeds` command."""

from feeds.cli import main

raise SystemExit(main())
