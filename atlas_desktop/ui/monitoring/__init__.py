"""Monitoring views: dashboard, mapping review, conflicts, sync history, tray alerts and settings."""
