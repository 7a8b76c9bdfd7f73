"""Events the crowd represents the platform at: staff manage them, invite eligible members,
members answer from the app, staff mark attendance."""
