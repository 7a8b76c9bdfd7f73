"""Accounts: users with one role each, passwords, bearer tokens and API keys."""
