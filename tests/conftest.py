"""Shared test set-up: the project root on sys.path, so tests import vizcore and pages."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # AppTest resolves page paths relative to the project root
