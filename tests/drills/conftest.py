"""The drills' marker: `slow` drills take tens of seconds each (deselect with -m "not slow")."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a long fault drill (tens of seconds); deselect with -m 'not slow'")
