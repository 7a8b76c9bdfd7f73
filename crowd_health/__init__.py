"""Crowd health for community managers: activity, activation, retention, levels, disputes."""
