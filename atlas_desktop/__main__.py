"""`python -m atlas_desktop` runs the command line."""

from atlas_desktop.cli import main

raise SystemExit(main())
