"""API contract of support mediation, one module per area."""
