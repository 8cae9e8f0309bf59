import pytest


@pytest.fixture(autouse=True)
def _private_state_dir(tmp_path_factory, monkeypatch):
    """The index of where notices were written (archive.state_dir) stays out of the home folder."""
    monkeypatch.setenv("TOOLKIT_STATE_DIR", str(tmp_path_factory.mktemp("state")))
