"""``manage.py backup_files [-o FILE|-]``: every stored file (media folder or bucket) into one
streamed tar archive with a manifest (media.backup). ``-`` (the default) writes to stdout."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from media.backup import write_backup


class Command(BaseCommand):
    help = "Write every stored file (local media folder or S3 bucket) to a tar archive (stdout or --output)."

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", default="-", help="archive file to write; - for stdout (default)")

    def handle(self, *args, output, **options):
        if output == "-":
            result = write_backup(sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            with open(output, "wb") as out:
                result = write_backup(out)
        self.stderr.write(f"已备份 {result['files']} 个文件，共 {result['bytes']} 字节。")
