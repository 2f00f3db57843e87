"""Oracle NetSuite connector (SuiteTalk REST web services, token-based authentication)."""
