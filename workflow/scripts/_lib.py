"""Imported first by every rule script: puts the project's library (src/hyperfit) on sys.path."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
