"""Announcements and newsletters to crowd segments: composing, previewing, sending in the
background to inbox and email outbox, and read tracking."""
