"""Find `../shared` (Slack's spec and samples, benchmark datasets) through one setting.

SERVICEDESK_SHARED_DIR overrides the default, the `shared` folder beside the project
root. A user's clone has none, so tests that need it skip with a reason; under CI it
is always there, so its absence fails the run instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    path = Path(os.environ.get("SERVICEDESK_SHARED_DIR") or PROJECT_ROOT.parent / "shared")
    if not path.is_dir():
        reason = f"shared material not found at {path} (set SERVICEDESK_SHARED_DIR)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return path
