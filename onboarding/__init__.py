"""Applications, checks, levels and rules."""
