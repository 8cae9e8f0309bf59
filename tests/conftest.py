import sys
from pathlib import Path

# The fixture builders live beside the tests.
sys.path.insert(0, str(Path(__file__).parent))


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _private_state_dir(tmp_path_factory, monkeypatch):
    """The index of where notices were written (archive.state_dir) stays out of the home folder."""
    monkeypatch.setenv("TOOLKIT_STATE_DIR", str(tmp_path_factory.mktemp("state")))
