"""API contract of invoicing: one module per area (profiles, documents …)."""
