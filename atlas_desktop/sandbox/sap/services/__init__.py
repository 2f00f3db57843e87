"""The emulated OData services, each a schema plus its write rules."""
