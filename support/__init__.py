"""Support-mediation tickets."""
