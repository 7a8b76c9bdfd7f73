"""Crowd members: profiles, skills, availability, status and performance counters."""
