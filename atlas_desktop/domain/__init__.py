"""Canonical model, NDC/GTIN utilities, error taxonomy, secret values, the sync vocabulary. No I/O."""
