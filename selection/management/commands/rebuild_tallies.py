"""Recount the progress board's counters from the entries (selection/tally.py), or check them."""

from django.core.management.base import BaseCommand, CommandError

from selection import tally


class Command(BaseCommand):
    help = "重新统计进度看板的计数（按单位、状态的推荐记录数与目录节点冲突），或用 --check 只比较。"

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="只比较计数与推荐记录，不修改；不一致时以非零状态退出")

    def handle(self, *args, check=False, **options):
        if check:
            wrong = tally.differences()
            for table, key, counted, recounted in wrong[:20]:
                self.stdout.write(f"{table} {key}: {counted} ≠ {recounted}")
            if wrong:
                raise CommandError(f"{len(wrong)} counters differ from a recount; run rebuild_tallies")
            self.stdout.write("counters agree with a recount")
            return
        tally.rebuild()
        self.stdout.write("counters rebuilt")
