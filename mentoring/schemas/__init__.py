"""API contract of the programmes, one module per area."""
