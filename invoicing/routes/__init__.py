"""HTTP for invoicing: one blueprint per area."""

from invoicing.routes.documents import blp as documents_blp
from invoicing.routes.profiles import blp as profiles_blp
from invoicing.routes.tax import blp as tax_blp

blueprints = (profiles_blp, documents_blp, tax_blp)
