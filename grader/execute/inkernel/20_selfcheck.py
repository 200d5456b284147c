# Runs inside the student's kernel (sent as a hidden cell; see grader/execute/runner.py).
# Students keep `from grader import check; check("q2")` cells in their hand-ins. While the grader
# runs the notebook the grader package is out of the kernel's reach (sandbox), so that import
# would fail and count against the question's code: a stand-in module answers instead. Where
# the real package is importable, its check() sees _grader_config and does nothing either.
import importlib.util as _grader_importlib_util
import sys as _grader_sys
import types as _grader_types


def _grader_install_check_stub():
    if "grader" in _grader_sys.modules:
        return
    try:
        if _grader_importlib_util.find_spec("grader") is not None:
            return
    except Exception:
        pass
    stub = _grader_types.ModuleType("grader")

    def check(*questions, notebook=None):
        print("grader.check() does nothing while the grader runs this notebook.")

    stub.check = check
    stub.__doc__ = "Stand-in for the grader package while the grader runs this notebook."
    _grader_sys.modules["grader"] = stub


_grader_install_check_stub()
