"""The bundle's entry point: the same command line as the `atlas-desktop` console script."""

from atlas_desktop.cli import main

raise SystemExit(main())
