"""Who may see a stored file or touch an upload (predicates of the ``rules`` library).

A file is private to its owner. Others see a file only through what it belongs to: a course's
pages check the course's permissions and then serve the file with
``media.services.file_response`` themselves, so this app does not need to know about courses.
"""

from __future__ import annotations

import rules


@rules.predicate
def is_file_owner(user, stored_file) -> bool:
    return bool(user and user.is_authenticated and stored_file is not None and stored_file.owner_id == user.pk)


@rules.predicate
def is_upload_owner(user, upload) -> bool:
    return bool(user and user.is_authenticated and upload is not None and upload.owner_id == user.pk)


can_view_file = is_file_owner
can_use_upload = is_upload_owner

rules.add_perm("media.view_storedfile", can_view_file)
rules.add_perm("media.change_upload", can_use_upload)
