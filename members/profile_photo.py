"""The member's profile photo: an upload of purpose profile_photo (crowd.core.files), shown
with the member's public face to whoever may see it (members.access.visible_member)."""

from __future__ import annotations

from crowd.core.auth import Principal
from crowd.core.errors import NotFound
from crowd.core.files import service as files
from crowd.core.i18n import _
from members.access import own_member, visible_member


def set_photo(*, actor: Principal, file_id: int) -> files.Download:
    """Your profile photo is now this ready upload of yours; the one it replaces is deleted."""
    member = own_member(actor, lock=True)
    files.ready_file(
        owner_user_id=actor.user_id,
        file_id=file_id,
        purpose=files.PROFILE_PHOTO,
        field="file_id",
    )
    previous = member.profile_photo_file_id
    if previous != file_id:
        member.profile_photo_file_id = file_id
        if previous is not None:
            files.discard(previous)
    return _download(member.id, file_id)


def remove_photo(*, actor: Principal) -> None:
    """You have no profile photo any more; its file is deleted."""
    member = own_member(actor, lock=True)
    if member.profile_photo_file_id is not None:
        files.discard(member.profile_photo_file_id)
        member.profile_photo_file_id = None


def photo(*, actor: Principal, member_id: int) -> files.Download:
    """Short-lived URLs of a member's photo, for whoever may see the member's public face."""
    member = visible_member(actor, member_id, public_face=True)
    found = None
    if member.profile_photo_file_id is not None:
        found = _download(member.id, member.profile_photo_file_id)
    if found is None:
        raise NotFound(_("This member has no profile photo."))
    return found


def _download(member_id: int, file_id: int) -> files.Download | None:
    name = f"member-{member_id}.{files.extension(file_id)}"
    return files.download(file_id, filename=name)
