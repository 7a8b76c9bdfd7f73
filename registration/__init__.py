"""Sign-up: an account with its customer or member profile (the layer above both)."""
