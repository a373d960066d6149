"""Real platform payloads kept in `shared/platform-samples`, beside the repository checkout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# tests/samples.py -> repository root (parents[1]) -> the folder holding it and shared/ (parents[2]).
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "platform-samples"


def load(platform: str, name: str) -> Any:
    """The parsed JSON of `shared/platform-samples/<platform>/<name>.json`."""
    return json.loads((SAMPLES / platform / f"{name}.json").read_text(encoding="utf-8"))
