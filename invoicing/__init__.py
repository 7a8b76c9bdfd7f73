"""Invoices, self-billing credit notes, the platform's invoices to members and their
corrections: documents an accountant in Germany, Austria or Switzerland can book (issue 24).

Rooms: `document.py` (the figures a document is made from, what the renderers read),
`tax.py` (VAT rules as data), `render/` (PDF and the structured e-invoice), the models,
the issuing service, the routes.
"""
