"""Load the Zhanjiang 2024 demo: organisations, accounts, catalog and the campaign."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from orgs.models import Unit


class Command(BaseCommand):
    help = "加载湛江市 2024 年演示数据（--if-empty：数据库已有单位时跳过）。"

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="数据库里已有单位时什么也不做")

    def handle(self, *args, if_empty=False, **options):
        if if_empty and Unit.objects.exists():
            self.stdout.write("数据库已有数据，跳过演示数据加载。")
            return
        from campaigns import demo as campaigns_demo
        from catalog import demo as catalog_demo
        from contacts import demo as contacts_demo
        from courses import demo as courses_demo
        from orgs import demo as orgs_demo
        from originality import demo as originality_demo
        from review import demo as review_demo
        from showcase import demo as showcase_demo

        with transaction.atomic():
            units = orgs_demo.load()
            catalog_demo.load()
            campaign = campaigns_demo.load(units["province"], units["city"])
            catalog_demo.open_demo_nodes(campaign)
            courses = courses_demo.load(campaign)
            courses += originality_demo.load(campaign)  # a copied course, and its originality check
            contacts_demo.load(campaign)
            review_demo.load(campaign)
            showcase_demo.load(units["city"])  # the ended 2023 campaign and its 精品课
        self.stdout.write(self.style.SUCCESS(f"已加载演示数据：{campaign}，演示课程 {len(courses)} 门"))
