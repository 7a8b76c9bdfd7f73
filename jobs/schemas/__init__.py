"""API contract of the jobs domain, by area."""
