"""One package per remote system (netsuite, sap, atlas) plus the shared HTTP layer."""
