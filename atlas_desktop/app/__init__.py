"""Composition root: builds the services and runs the GUI, the headless agent or a CLI command."""
