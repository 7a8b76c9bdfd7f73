"""A person's export of their data: what it holds (sections), its ZIP (archive), the
requests and their background work (service)."""
