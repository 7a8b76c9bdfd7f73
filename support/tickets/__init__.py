"""Support tickets, one module per concern.

access (who sees a ticket as which side, who is told), views (how each side sees it), opening,
queue (reading: one ticket, the queue, the audit trail), actions (assignment, status actions,
edits) and ratings. Import the module you need; this package imports none of them, so that
support.messages and support.sla can use `access` without an import cycle.
"""
