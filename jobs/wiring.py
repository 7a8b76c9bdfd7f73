"""What jobs plugs into lower packages — the member's offer-list stamp, read with the token (one
round trip for a poll answered 304, jobs.polling) — and into its own ranking: a vetted provider
company's standing (jobs.company)."""

from accounts.authentication import add_note_stamp
from crowd.core.auth import Principal
from jobs.company import company_standing_boosts
from jobs.matching.ranking import add_programme_boost
from jobs.polling import offers_stamp


def member_offers_stamp(principal: Principal) -> str | None:
    return offers_stamp(principal.member_id) if principal.member_id is not None else None


add_note_stamp(member_offers_stamp)

add_programme_boost(company_standing_boosts)
