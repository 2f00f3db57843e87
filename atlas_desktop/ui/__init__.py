"""Qt user interface: wizard, main window, table models, tray. Talks to the engine through bridge.py."""
