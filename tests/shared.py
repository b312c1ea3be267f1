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


IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _location() -> Path:
    return Path(os.environ.get("SERVICEDESK_SHARED_DIR") or PROJECT_ROOT.parent / "shared")


def shared_dir() -> Path:
    """The shared folder; skips the calling test when it is absent (fails under CI)."""
    path = _location()
    if not path.is_dir():
        reason = f"shared material not found at {path} (set SERVICEDESK_SHARED_DIR)"
        if IN_CI:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return path


def slack_spec_or_none() -> Path | None:
    """Slack's OpenAPI spec for contract checks, or None outside CI when it is absent."""
    spec = _location() / "slack" / "web_api_openapi_v2.json"
    if spec.is_file():
        return spec
    if IN_CI:
        pytest.fail(f"Slack's OpenAPI spec is required under CI and was not found at {spec}", pytrace=False)
    return None


def load_sample(relative: str) -> dict:
    """A payload sample from shared/slack/samples/ (Slack's real shapes, values blank)."""
    import json

    return json.loads((shared_dir() / "slack" / "samples" / relative).read_text(encoding="utf-8"))
