"""Canonical model, NDC/GTIN utilities, error taxonomy, secret values. No I/O."""
