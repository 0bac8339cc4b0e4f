"""``manage.py restore_files [-i FILE|-] [--overwrite]``: store the files of a ``backup_files``
archive under their names (media folder or bucket), checked against its manifest."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from media.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Restore the stored files from a backup_files archive (stdin or --input)."

    def add_arguments(self, parser):
        parser.add_argument("-i", "--input", default="-", help="archive file to read; - for stdin (default)")
        parser.add_argument("--overwrite", action="store_true", help="replace files that exist already (default: keep them)")

    def handle(self, *args, input, overwrite, **options):
        try:
            if input == "-":
                result = restore_backup(sys.stdin.buffer, overwrite=overwrite)
            else:
                try:
                    src = open(input, "rb")
                except OSError as exc:
                    raise CommandError(f"无法打开备份文件 {input}：{exc.strerror}") from exc
                with src:
                    result = restore_backup(src, overwrite=overwrite)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已恢复 {result['restored']} 个文件（{result['bytes']} 字节），"
                          f"跳过已存在的 {result['skipped']} 个。")
