"""Shared fixtures of the package's own tests (numexpr's suite has its own
folder, numexpr_suite/, run separately by scripts/test)."""

import pytest

import vexpr


@pytest.fixture(autouse=True)
def restore_threads():
    """Each test starts and ends with the thread count it found."""
    before = vexpr.get_num_threads()
    yield
    vexpr.set_num_threads(before)


collect_ignore = ["numexpr_suite"]
