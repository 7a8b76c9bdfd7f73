"""HTTP for invoicing: one blueprint per area."""

from invoicing.routes.documents import blp as documents_blp

blueprints = (documents_blp,)
