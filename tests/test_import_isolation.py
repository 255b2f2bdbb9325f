"""The numeric core loads neither streamlit nor plotly (checked in a fresh interpreter)."""
from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NUMERIC_MODULES = ["vizcore"] + [
    f"vizcore.{m.name}" for m in pkgutil.iter_modules([str(ROOT / "vizcore")])
    if m.name not in ("figures", "__main__")  # figure builders may import plotly; __main__ is the CLI
]

PROBE = """
import sys, importlib
importlib.import_module({module!r})
bad = sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'plotly'))
print('LOADED:' + ','.join(bad))
"""


def _loaded_after_import(module: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE.format(module=module)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("LOADED:")][-1]
    return [m for m in line[len("LOADED:"):].split(",") if m]


def test_numeric_modules_are_discovered():
    assert {"vizcore", "vizcore.models", "vizcore.inference", "vizcore.views", "vizcore.datasets"} <= set(NUMERIC_MODULES)


@pytest.mark.parametrize("module", NUMERIC_MODULES)
def test_import_loads_neither_streamlit_nor_plotly(module):
    assert _loaded_after_import(module) == []


def test_probe_detects_a_heavy_import():
    """The probe itself can fail: importing plotly (or streamlit) directly is reported."""
    import importlib.util
    for name in ("plotly", "streamlit"):
        if importlib.util.find_spec(name) is not None:
            assert name in _loaded_after_import(name)
            return
    pytest.skip("neither plotly nor streamlit is installed")
