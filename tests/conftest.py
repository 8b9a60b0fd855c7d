"""Every test saves recovery files (autosave) in a folder of its own, never in the user's data folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def recovery_dir(tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.mktemp("recovery")
    monkeypatch.setenv("NAPARI_SIAMTRACK_RECOVERY_DIR", str(folder))
    return folder
