"""The client's own tests: no real server, a fake one in this process (fakememo.py)."""

import pytest
from fakememo import FakeMemo


@pytest.fixture
def memo():
    """A fake Memo server of an account in Seoul, for one test."""
    fake = FakeMemo(timezone="Asia/Seoul")
    yield fake
    fake.stop()
