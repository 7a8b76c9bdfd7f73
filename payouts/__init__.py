"""Commission plans, ledger, payment provider, payouts and webhooks."""
