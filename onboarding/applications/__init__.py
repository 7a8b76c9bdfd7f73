"""The application pipeline: an applicant's checklist, and community managers' review of it.

own        the applicant's side: progress, documents, re-applying after a rejection
queue      the review queue and one application in full, for community managers
decisions  document checks, intro calls, approval and rejection
identity_images  an identity check's images: attached by the applicant, read by the staff
           responsible for onboarding (each staff read on the audit log)

Lock order (so that concurrent requests never deadlock): the application row, then the
member row. The checklist itself is data: onboarding.steps.
"""
