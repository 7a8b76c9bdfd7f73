"""Job orders, matching, offers, lifecycle and reviews."""
