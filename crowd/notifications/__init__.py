"""In-app inbox: notifications per user, written by background jobs, read/unread."""
