"""The engine is pure Python: importing it must not import Django (checked in a fresh interpreter)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_engine_imports_without_django():
    code = (
        "import sys; import indications.engine, indications.engine.checks; "
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env={"PATH": ""}
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_engine_sources_name_no_io_or_clock():
    forbidden = (
        "import django",
        "from django",
        "open(",
        "datetime.now",
        "date.today",
        "time.time",
        "requests",
    )
    for path in (ROOT / "indications" / "engine").glob("*.py"):
        text = path.read_text()
        for word in forbidden:
            assert word not in text, f"{path.name} uses {word}"
