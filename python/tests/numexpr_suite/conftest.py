"""Runs numexpr 2.14.2's own test file against vexpr.

`scripts/test` downloads numexpr's wheel with pip, copies its unmodified
`numexpr/tests/test_numexpr.py` next to this file and runs pytest here. This
conftest makes `import numexpr` resolve to vexpr (through `shim/`, also for
the subprocesses some tests start) and marks the tests that inspect numexpr's
private internals as expected failures: each is listed, with the reason, in
`docs/python.md`, and `strict` makes the run fail if one of them passes (then
it no longer inspects anything vexpr lacks, and belongs in the passing set).
"""

import os
import sys

import pytest

SHIM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shim")
sys.path.insert(0, SHIM)
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [SHIM, os.environ.get("PYTHONPATH")]))
sys.modules.pop("numexpr", None)

import numexpr  # noqa: E402

assert numexpr.__name__ == "vexpr", "the shim must make `import numexpr` give vexpr"

# test name -> why it cannot pass against anything but numexpr itself.
INTERNALS = {
    "test_reductions": "compares disassemble() with numexpr's opcode names (b'mul_ddd', b'sum_ddn', ...) before evaluating",
    "test_r0_reuse": "compares disassemble() with numexpr's opcodes and register allocation",
    "test_disassemble": "compares disassemble() with numexpr's opcodes (b'where_fbff', b'noop')",
    "test_constant_deduplication": "reads the `constants` attribute of numexpr's compiled-program object",
    "test_nan_constant": "reads numexpr's AST classes (ConstantNode.value) and its program's `constants`",
    "test_add_string_array": "expects numexpr's opcode name 'add_sss' in the error message",
    "test_add_numeric_array": "expects numexpr's opcode name 'ge_bsi' in the error message",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        reason = INTERNALS.get(item.originalname or item.name)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=f"numexpr internals: {reason}", strict=True))


def pytest_configure(config):
    config.addinivalue_line("markers", "thread_unsafe: numexpr's marker for tests that change global state")
