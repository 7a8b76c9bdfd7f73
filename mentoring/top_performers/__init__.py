"""Top performers: periodic runs over a rolling window, badges with grace, and their perks."""
