"""A web worker does not load the heavy solver libraries until it solves something: OR-Tools' CP-SAT
brings pandas and numpy, ~60 MB in every gunicorn worker, which took an idle worker from ~100 MB to
~170 MB, above the 150 MB that `python -m bench uploads` holds the server to (issue 12)."""

import subprocess
import sys

HEAVY = ("ortools", "pandas", "numpy")

SCRIPT = """
import sys
import django
django.setup()
from django.core.wsgi import get_wsgi_application
get_wsgi_application()
from django.urls import get_resolver
get_resolver().url_patterns
print(",".join(sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:]))))
"""


def test_loading_every_url_imports_no_solver(tmp_path, settings):
    env = {"DJANGO_SETTINGS_MODULE": "jingpinke.settings", "JPK_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", SCRIPT, *HEAVY], env=env, capture_output=True,
                         text=True, check=True, cwd=settings.BASE_DIR).stdout.strip()
    assert out == "", f"imported when the URLs load: {out} (import them inside the function that solves)"
