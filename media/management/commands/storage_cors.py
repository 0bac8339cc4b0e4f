"""``manage.py storage_cors [--origin https://jpk.example.cn …]``: let the site's pages upload parts
straight to the bucket (media.multipart). Default origins: JPK_CSRF_TRUSTED_ORIGINS."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from jingpinke.errors import ServiceError
from media import multipart


class Command(BaseCommand):
    help = "Set the bucket's CORS rule for direct uploads (PUT parts, read ETag) from the site's origins."

    def add_arguments(self, parser):
        parser.add_argument("--origin", action="append", default=[],
                            help="Origin of the site, e.g. https://jpk.example.cn (repeatable)")

    def handle(self, *args, origin, **options):
        origins = origin or list(getattr(settings, "CSRF_TRUSTED_ORIGINS", []))
        if not origins:
            raise CommandError("请用 --origin 给出网站的来源（如 https://jpk.example.cn），或设置 JPK_CSRF_TRUSTED_ORIGINS。")
        try:
            multipart.set_bucket_cors(origins)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"CORS set for {', '.join(origins)}: GET/HEAD/PUT/POST, ETag exposed")
