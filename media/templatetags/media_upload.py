"""``{% upload_storage %}``: "s3" when uploads go straight to the object store (media.multipart),
else "tus"; the upload widget (static/js/upload.js) reads it from ``data-storage``."""

from django import template

from media.multipart import direct_uploads_enabled

register = template.Library()


@register.simple_tag
def upload_storage() -> str:
    return "s3" if direct_uploads_enabled() else "tus"
