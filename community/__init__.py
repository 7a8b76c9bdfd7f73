"""Topic groups: activity-related exchange among members, moderated by CMs and mentors."""
