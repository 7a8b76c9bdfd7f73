"""API contract of the money domain, by area."""
