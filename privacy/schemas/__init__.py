"""API contract of privacy: one module per area."""
