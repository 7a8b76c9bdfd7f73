"""API contract of onboarding, one module per area."""
