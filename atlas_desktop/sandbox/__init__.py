"""Emulators of NetSuite, SAP and the Atlas cloud as ASGI apps, the catalog generator, fault injection."""
