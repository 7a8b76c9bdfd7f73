"""Help centre: articles by community managers, versioned, searchable, linked from onboarding."""
