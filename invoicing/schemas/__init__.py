"""API contract of invoicing, by area."""
