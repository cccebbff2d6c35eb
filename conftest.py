"""Test-wide settings: under pytest nobody types into a login form, so it fills itself (and says so)."""

import os

# Read by labkit.widgets in every kernel that nbval starts: the form fills and presses itself
# through its widget API. The browser test (tests/e2e) removes it for its JupyterLab.
os.environ.setdefault("LABKIT_AUTOPILOT", "1")
