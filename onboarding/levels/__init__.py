"""Levels as data: rule sets, metrics, evaluation (events and daily), dry runs, training."""
