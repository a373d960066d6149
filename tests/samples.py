"""Real platform payloads, copied from the team's `shared/platform-samples` (sources in each SOURCES.md)
so that a clone of this repository tests on its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parent / "platform_samples"
# Payloads the team found itself, with their sources, kept apart so SAMPLES stays an exact copy.
FOUND = Path(__file__).resolve().parent / "platform_samples_found"
# The team's master copy, beside the checkout when there is one (CI and developers' machines).
SHARED = Path(__file__).resolve().parents[2] / "shared" / "platform-samples"


def load(platform: str, name: str) -> Any:
    """The parsed JSON of `<platform>/<name>.json` in platform_samples, else in platform_samples_found."""
    path = SAMPLES / platform / f"{name}.json"
    if not path.exists():
        path = FOUND / platform / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))
