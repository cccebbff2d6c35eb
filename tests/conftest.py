"""Shared fixtures: one running lab for the whole test session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import labkit
from labkit.lab import Lab


@pytest.fixture(scope="session")
def running_lab() -> Iterator[Lab]:
    lab = labkit.start()
    yield lab
    lab.stop()


@pytest.fixture
def lab(running_lab: Lab) -> Lab:
    """The running lab with no clients, tokens or notes, and the clock at wall time."""
    running_lab.reset()
    return running_lab
