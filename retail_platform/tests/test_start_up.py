"""What a process loads when it sets Django up: every management command, web worker and task worker
pays for it before doing anything. The scientific libraries (SciPy, scikit-learn, pandas) are loaded
by the code that needs them (the refit, customer value, an import's reader), not by the admin or
the app registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
HEAVY = ("scipy", "sklearn", "pandas")


def _modules_after(code: str) -> set[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "retail_platform.settings.production"}
    env.update(SECRET_KEY="start-up-test-" + "x" * 40, ALLOWED_HOSTS="retail.example.com")
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_setting_django_up_loads_no_scientific_library() -> None:
    modules = _modules_after("import django; django.setup()")

    assert "django.contrib.admin" in modules and "segmentation.admin" in modules
    assert not {name for name in modules if name.split(".")[0] in HEAVY}


def test_the_import_command_loads_its_reader_but_not_the_refit() -> None:
    code = (
        "import django; django.setup()\n"
        "from django.core.management import load_command_class\n"
        "load_command_class('analytics', 'import_transactions')"
    )
    modules = _modules_after(code)

    assert "pandas" in modules  # Arrow's reader needs it (analytics.services.import_csv.columnar)
    assert "segmentation.services.refit" not in modules
    assert not {name for name in modules if name.split(".")[0] in ("scipy", "sklearn")}
