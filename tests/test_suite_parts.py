"""The parts ./scripts/test runs the suite in (devenv/suite.py): which modules may run in the
background, at a lower priority."""

from types import SimpleNamespace

from devenv import ROOT
from devenv.suite import (
    BACKGROUND,
    background_but_serving,
    serial_modules,
)


def test_the_background_modules_exist_and_none_is_a_load_test():
    for module in BACKGROUND:
        assert (ROOT / module).is_file(), module
    assert set(BACKGROUND).isdisjoint(serial_modules())


def test_a_background_test_that_starts_a_server_is_refused_at_collection():
    module = ROOT / BACKGROUND[0]
    serving = SimpleNamespace(path=module, nodeid="t::serving", fixturenames=["app", "live_server"])
    refused = background_but_serving(serving)
    assert refused and "live_server" in refused and "BACKGROUND" in refused
    in_process = SimpleNamespace(path=module, nodeid="t::in_process", fixturenames=["app", "user"])
    assert background_but_serving(in_process) is None
    elsewhere = ROOT / "tests" / "test_front.py"
    served = SimpleNamespace(path=elsewhere, nodeid="t::elsewhere", fixturenames=["live_server"])
    assert background_but_serving(served) is None
