"""Mentor and top-performer programmes, events."""
