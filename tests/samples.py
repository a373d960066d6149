"""Real platform payloads, copied from the team's `shared/platform-samples` (sources in each SOURCES.md)
so that a clone of this repository tests on its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parent / "platform_samples"
# The team's master copy, beside the checkout when there is one (CI and developers' machines).
SHARED = Path(__file__).resolve().parents[2] / "shared" / "platform-samples"


def load(platform: str, name: str) -> Any:
    """The parsed JSON of `platform_samples/<platform>/<name>.json`."""
    return json.loads((SAMPLES / platform / f"{name}.json").read_text(encoding="utf-8"))
