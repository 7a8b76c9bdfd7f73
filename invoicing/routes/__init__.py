"""HTTP for invoicing: one blueprint per area."""

from invoicing.routes.tax import blp as tax_blp

blueprints = (tax_blp,)
