"""Test helper (not a test): ``manage.py db_worker`` whose probes take JPK_TEST_PROBE_DELAY
seconds longer, as the probe of a 1 GB video does, so that test_multinode can kill a worker in the
middle of one. Everything else is the real worker."""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingpinke.settings")

import django  # noqa: E402

django.setup()

from django.core.management import execute_from_command_line  # noqa: E402

from media import probe  # noqa: E402

_real_probe = probe.probe
_delay = float(os.environ.get("JPK_TEST_PROBE_DELAY", "0"))


def _slow_probe(path, kind):
    time.sleep(_delay)
    return _real_probe(path, kind)


probe.probe = _slow_probe
execute_from_command_line(["manage.py", "db_worker", *sys.argv[1:]])
