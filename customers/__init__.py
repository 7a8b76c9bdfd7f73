"""Customers: profiles, service addresses, favourite and blocked members."""
