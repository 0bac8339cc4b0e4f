"""Signals of the media app."""

from django.dispatch import Signal

# Sent by media.tasks.probe_file when a file's probe finished (done or failed).
# Keyword argument: stored_file (media.models.StoredFile).
file_probed = Signal()
