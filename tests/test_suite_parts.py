"""The parts ./scripts/test runs the suite in (devenv/suite.py): which modules may run beside
the load tests, at a lower priority."""

from types import SimpleNamespace

from devenv import ROOT
from devenv.suite import (
    BESIDE_THE_LOAD_TESTS,
    beside_the_load_tests_but_serving,
    serial_modules,
)


def test_the_modules_beside_the_load_tests_exist_and_none_is_one():
    for module in BESIDE_THE_LOAD_TESTS:
        assert (ROOT / module).is_file(), module
    assert set(BESIDE_THE_LOAD_TESTS).isdisjoint(serial_modules())


def test_a_test_beside_the_load_tests_that_starts_a_server_is_refused_at_collection():
    module = ROOT / BESIDE_THE_LOAD_TESTS[0]
    serving = SimpleNamespace(path=module, nodeid="t::serving", fixturenames=["app", "live_server"])
    refused = beside_the_load_tests_but_serving(serving)
    assert refused and "live_server" in refused and "BESIDE_THE_LOAD_TESTS" in refused
    in_process = SimpleNamespace(path=module, nodeid="t::in_process", fixturenames=["app", "user"])
    assert beside_the_load_tests_but_serving(in_process) is None
    elsewhere = ROOT / "tests" / "test_front.py"
    served = SimpleNamespace(path=elsewhere, nodeid="t::elsewhere", fixturenames=["live_server"])
    assert beside_the_load_tests_but_serving(served) is None
