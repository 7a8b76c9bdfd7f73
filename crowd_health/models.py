"""Crowd health reads other domains' tables; it has none of its own."""
