"""What a person's data export holds: one section per kind of data, each a query of the rows
that are theirs, with the columns they may see.

Each section reads its owner's table by name (`db.metadata`): the list of what is personal is
kept here in one place rather than spread over the domains. A section selects only what the
person already sees or what is about them: credentials' secrets, provider internals, staff
notes, internal ticket notes and the ids or names of other people are left out (a review they
received says who wrote it by side only, "customer" or "member"). Rows are read in batches
(`yield_per`), so a long history never sits in memory whole.
"""

from __future__ import annotations

from privacy.export.sections import contact, money, profile, programmes, work
from privacy.export.sections.base import Person, Section, t
from privacy.export.sections.contact import files_query
from privacy.export.sections.money import their_documents

# In the order the README lists them.
SECTIONS: tuple[Section, ...] = (
    *profile.SECTIONS,
    *work.SECTIONS,
    *money.SECTIONS,
    *programmes.SECTIONS,
    *contact.SECTIONS,
)

__all__ = ["SECTIONS", "Person", "Section", "files_query", "t", "their_documents"]
