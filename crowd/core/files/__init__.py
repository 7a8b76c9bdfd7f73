"""Files: one storage interface (a local folder or S3), uploads from the phone and their checks.

`storage.py` is the interface and its two backends, `models.py` the `stored_files` table,
`service.py` the upload flow (create → PUT to a presigned URL → confirm), `images.py` the
checks and re-encoding of images, `routes.py` the API and the local backend's signed URLs,
`tasks.py` the thumbnails. Domains above the core use it through `service` (members: the
profile photo).
"""
