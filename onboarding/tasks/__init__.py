"""Background jobs of onboarding; each area registers its tasks in its own module."""
