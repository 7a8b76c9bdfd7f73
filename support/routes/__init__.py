"""HTTP for support mediation: one blueprint per area, registered in this order."""

from support.routes.contacts import blp as contacts_blp
from support.routes.resolutions import blp as resolutions_blp
from support.routes.sanctions import blp as sanctions_blp
from support.routes.tickets import blp as tickets_blp

blueprints = (tickets_blp, resolutions_blp, sanctions_blp, contacts_blp)
