"""Atlas cloud API client."""
