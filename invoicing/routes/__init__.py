"""HTTP for invoicing: one blueprint per area, registered in this order."""

from invoicing.routes.profiles import blp as profiles_blp

blueprints = (profiles_blp,)
