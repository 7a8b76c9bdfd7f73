"""In-app inbox: notifications per user, written with the event they report, read/unread."""
