"""The mentor programme: eligibility, mentor profiles, assignment, the mentorship lifecycle,
sessions (incl. shadowing a real job) and graduation with the mentor's reward."""
