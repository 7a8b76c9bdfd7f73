"""Background work of files: thumbnails, and deleting objects once their rows say so."""

from crowd.core.background import task
from crowd.core.files import service


@task(service.THUMBNAIL_TASK)
def make_thumbnail(file_id: int) -> None:
    """The thumbnail of a confirmed image (queued by the confirmation)."""
    service.make_thumbnail(file_id)


@task(service.DELETE_TASK)
def delete_objects(keys: list[str]) -> None:
    """Remove replaced, rejected or raw objects from storage after the commit that let go."""
    service.delete_objects(keys)
