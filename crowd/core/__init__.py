"""Shared core: database base, errors, auth, idempotency, pagination, background work."""
