"""Erasure on request: a person's account anonymised in one transaction, unless money is in
transit or something is still open (`blocking`); what is anonymised, deleted, discarded or
kept is listed per table in `anonymise`."""
