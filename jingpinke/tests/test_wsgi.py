"""The WSGI entry point leaves the collector only what requests allocate (see ``freeze_startup_heap``)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, json, sys
import jingpinke.wsgi
print(json.dumps({"frozen": gc.get_freeze_count(), "views": "selection.views" in sys.modules,
                  "tracked": len(gc.get_objects())}))
"""


def test_the_wsgi_module_imports_the_views_and_freezes_the_start_up_heap(tmp_path):
    env = {**os.environ, "JPK_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "jingpinke.settings",
           "PYTHONPATH": str(ROOT)}
    env.pop("JPK_DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["views"], "the URLconf's views are imported at start-up"
    # nearly everything start-up made is frozen: what a full collection still walks is a small rest
    assert seen["frozen"] > 50_000
    assert seen["tracked"] < seen["frozen"] / 10
