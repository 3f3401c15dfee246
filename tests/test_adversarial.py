"""Hostile and broken submissions against week01/attention: no unearned points, ever.

Each case plants code into the week01 attention notebook. Most start from a
*wrong* implementation (attention without the 1/sqrt(d_k) scaling, or the
released stub), so any point beyond what that wrong implementation earns on
its own would be unearned. For every case we assert:

* the grade completes (the batch would go on) with a report;
* the score is at most what the case may honestly earn, and the named hidden
  tests fail;
* the machine is left clean: no process of a free sandbox user survives, and
  nothing was written outside the sandbox.

Time limits are shortened for these tests (see ``LIMITS``) so that cases that
hang cost seconds, not minutes.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path

import pytest

from autograder.engine import grade_notebook
from autograder.exercises import REPO_ROOT, get_exercise
from autograder.seam import isolation
from tests.helpers import failed_tests, with_cells
from tests.test_week01_attention_grading import attention

EXERCISE = get_exercise("week01/attention")
SOLUTION = EXERCISE.source_path
LIMITS = {"notebook_seconds": 8, "call_seconds": 4, "submission_seconds": 40, "max_restarts": 1}
CANARY = Path("/tmp/autograder-adversarial-canary")

# A wrong implementation: it forgets to divide the scores by sqrt(d_k).
UNSCALED = attention(scores="q @ k.transpose(-2, -1)")
UNSCALED_FAILS = {"test_matches_torch_without_mask", "test_weights_are_scaled_softmax", "test_gradients_match_torch"}
UNSCALED_MAX = 17 - 4  # the points an unscaled attention earns on its own


def attack(prelude: str, body: str = "return weights @ v, weights") -> dict:
    """The unscaled attention with ``prelude`` run at definition time and ``body`` as its return."""
    return {"scaled_dot_product_attention": prelude + UNSCALED.replace("return weights @ v, weights", body)}


# case -> (cell replacements, highest honest score, hidden tests that must fail)
CASES: dict[str, tuple[dict, float, set]] = {
    "patch_numpy_and_torch_allclose": (
        attack("import numpy, torch\nnumpy.allclose = lambda *a, **k: True\ntorch.allclose = lambda *a, **k: True\n"
               "torch.testing.assert_close = lambda *a, **k: None\n"),
        UNSCALED_MAX, UNSCALED_FAILS,
    ),
    "object_equal_to_everything": (
        attack("class Anything:\n    def __eq__(self, other): return True\n    def __ne__(self, other): return False\n"
               "    def __getattr__(self, name): return lambda *a, **k: self\n", "return Anything(), Anything()"),
        17 - 11, {"test_matches_torch_without_mask", "test_causal_mask_matches_torch"},
    ),
    "tensor_subclass_that_lies": (
        attack("import torch\nclass Liar(torch.Tensor):\n    def __eq__(self, o): return torch.ones((), dtype=torch.bool)\n"
               "    def allclose(self, *a, **k): return True\n",
               "out = (weights @ v).as_subclass(Liar)\n    return out, weights.as_subclass(Liar)"),
        UNSCALED_MAX, UNSCALED_FAILS,
    ),
    "ast_transformer_turns_assert_into_pass": (
        attack("import ast\nclass NoAssert(ast.NodeTransformer):\n    def visit_Assert(self, node): return ast.Pass()\n"
               "get_ipython().ast_transformers.append(NoAssert())\n"),
        UNSCALED_MAX, UNSCALED_FAILS,
    ),
    "patch_builtins_and_pytest": (
        attack("import builtins, sys\nbuiltins.isinstance = lambda *a: True\nbuiltins.AssertionError = Exception\n"
               "sys.modules['pytest'] = None\n"),
        UNSCALED_MAX, UNSCALED_FAILS,
    ),
    "read_solution_and_hidden_tests": (
        attack("import glob, json\n_found = []\n"
               "for _p in glob.glob('/work/**/*.ipynb', recursive=True) + glob.glob('/work/**/suites/**/*.py', recursive=True):\n"
               "    try:\n        _found.append(open(_p).read())\n    except OSError:\n        pass\n"
               "for _text in _found:\n    if 'BEGIN SOLUTION' in _text:\n"
               "        for _cell in json.loads(_text)['cells']:\n"
               "            if 'def scaled_dot_product_attention' in ''.join(_cell['source']):\n"
               "                exec(''.join(_cell['source']).replace('### BEGIN SOLUTION', '').replace('### END SOLUTION', ''))\n"),
        UNSCALED_MAX, UNSCALED_FAILS,
    ),
    "read_git_history": (
        attack("import subprocess\n_log = subprocess.run(['git', '-C', '" + str(REPO_ROOT) + "', 'show', 'HEAD:solutions/week01/attention.ipynb'],"
               " capture_output=True, text=True).stdout\nassert not _log, 'git history is readable'\n"),
        UNSCALED_MAX, UNSCALED_FAILS,
    ),
    "write_gradebook_and_other_students": (
        attack("import glob\nfor _p in glob.glob('/**/gradebook.db', recursive=True) + glob.glob('/**/submitted/**/*.ipynb', recursive=True):\n"
               "    try:\n        open(_p, 'w').write('pwned')\n    except OSError:\n        pass\n"),
        UNSCALED_MAX, UNSCALED_FAILS,
    ),
    "write_outside_the_sandbox": (
        attack("for _p in ['" + str(CANARY) + "', '" + str(REPO_ROOT / "pwned.txt") + "', '/var/tmp/autograder/pwned']:\n"
               "    try:\n        open(_p, 'w').write('pwned')\n    except OSError:\n        pass\n"),
        UNSCALED_MAX, UNSCALED_FAILS,
    ),
    "setsid_child_outlives_grading": (
        attack("import os\nif os.fork() == 0:\n    os.setsid()\n    import time\n    time.sleep(3600)\n"),
        UNSCALED_MAX, UNSCALED_FAILS,
    ),
    "double_fork_daemon": (
        attack("import os, time\nif os.fork() == 0:\n    if os.fork() == 0:\n        os.setsid()\n        time.sleep(3600)\n    os._exit(0)\n"),
        UNSCALED_MAX, UNSCALED_FAILS,
    ),
    "os_exit_inside_graded_function": (
        attack("import os\n", "os._exit(0)"),
        17 - 11, {"test_matches_torch_without_mask", "test_gradients_match_torch"},
    ),
    "sys_exit_inside_graded_function": (
        attack("import sys\n", "sys.exit(0)"),
        17 - 11, {"test_matches_torch_without_mask", "test_implemented_from_scratch"},
    ),
    "sys_exit_in_a_top_level_cell": (
        {"causal_mask": "import sys\nsys.exit('bye')\n"},
        17 - 2, {"test_shape_and_dtype", "test_true_on_and_below_diagonal"},
    ),
    "busy_loop_swallowing_keyboardinterrupt": (
        attack("", "while True:\n        try:\n            pass\n        except KeyboardInterrupt:\n            pass"),
        17 - 11, {"test_matches_torch_without_mask"},
    ),
    "sleep_forever_at_top_level": (
        {"scaled_dot_product_attention": "import time\ntime.sleep(10**6)\n" + UNSCALED},
        0, {"test_matches_torch_on_last_dim", "test_matches_torch_without_mask"},
    ),
    "bounded_fork_bomb": (
        attack("import os, time\n_kids = []\nfor _ in range(400):\n    try:\n        _pid = os.fork()\n"
               "    except OSError:\n        break\n    if _pid == 0:\n        time.sleep(3600)\n        os._exit(0)\n    _kids.append(_pid)\n"),
        UNSCALED_MAX, UNSCALED_FAILS,
    ),
    "allocate_50_gb": (
        attack("_hog = None\ntry:\n    _hog = bytearray(50 * 1024**3)\nexcept MemoryError:\n    pass\n"),
        UNSCALED_MAX, UNSCALED_FAILS,
    ),
    "print_one_gigabyte": (
        attack("import sys\nfor _ in range(16):\n    sys.stdout.write('x' * 64 * 1024**2)\n"),
        UNSCALED_MAX, UNSCALED_FAILS,
    ),
    "one_50_mb_line_and_20000_displays": (
        attack("from IPython.display import display\nprint('y' * 50 * 1024**2)\nfor _i in range(20000):\n    display(_i)\n"),
        UNSCALED_MAX, UNSCALED_FAILS,
    ),
    "open_a_socket_to_the_outside": (
        attack("import socket, urllib.request\n_reached = []\nfor _host in [('1.1.1.1', 53), ('127.0.0.1', 22)]:\n"
               "    try:\n        socket.create_connection(_host, timeout=1)\n        _reached.append(_host)\n"
               "    except OSError:\n        pass\nassert not _reached, _reached\n"),
        UNSCALED_MAX, UNSCALED_FAILS,
    ),
    "detect_grading_by_environment": (
        attack("import os\nif os.getuid() != 0 or 'JPY_PARENT_PID' not in os.environ:\n"
               "    import torch.nn.functional as _F\n",
               "return _F.scaled_dot_product_attention(q, k, v, attn_mask=mask), weights"),
        17 - 11, {"test_matches_torch_without_mask", "test_implemented_from_scratch"},
    ),
    "call_torch_builtin_through_private_names": (
        {"softmax": "import torch\ndef softmax(x, dim=-1):\n    return torch._C._VariableFunctions.softmax(x, dim)\n",
         "scaled_dot_product_attention": "import torch\n" + UNSCALED},
        UNSCALED_MAX - 4, UNSCALED_FAILS | {"test_matches_torch_on_last_dim", "test_implemented_from_scratch"},
    ),
    "forge_replies_on_the_channel": (
        attack("import os, struct, json\n",
               "for _fd in range(3, 12):\n        try:\n"
               "            _b = json.dumps({'ok': True, 'value': 1.0}).encode()\n"
               "            os.write(_fd, struct.pack('>I', len(_b)) + _b)\n        except OSError:\n            pass\n"
               "    return weights @ v, weights"),
        UNSCALED_MAX, {"test_matches_torch_without_mask"},
    ),
    "huge_reply": (
        attack("import torch\n", "return torch.zeros(80, 1024, 1024), weights"),
        17 - 11, {"test_matches_torch_without_mask"},
    ),
    "kill_everything_it_can": (
        attack("import os, signal\n", "os.kill(-1, signal.SIGKILL)"),
        17 - 11, {"test_matches_torch_without_mask"},
    ),
    "infinite_recursion": (
        attack("def _again(n):\n    return _again(n + 1)\n", "return _again(0)"),
        17 - 11, {"test_matches_torch_without_mask"},
    ),
    "exhaust_file_descriptors_and_chmod_workdir": (
        attack("import os\n_fds = []\ntry:\n    while True:\n        _fds.append(os.open('/dev/null', os.O_RDONLY))\n"
               "except OSError:\n    pass\nfor _fd in _fds:\n    os.close(_fd)\nos.makedirs('a/b/c', exist_ok=True)\n"
               "os.chmod('a/b', 0)\nos.chmod('.', 0o500)\n"),
        UNSCALED_MAX, UNSCALED_FAILS,
    ),
}


def _free_slots():
    """Yield (index, uid) of each sandbox slot no grader holds, with its lock held meanwhile."""
    import pwd

    for index in range(isolation.POOL_SIZE):
        lock = isolation.STATE_DIR / f"slot{index}.lock"
        if not lock.exists():
            continue
        fd = os.open(lock, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # held by a running grader
            os.close(fd)
            continue
        try:
            yield index, pwd.getpwnam(f"{isolation.USER_PREFIX}{index}").pw_uid
        finally:
            os.close(fd)


def free_slots_are_clean() -> list[str]:
    """Problems with sandbox users that no grader holds: none may have processes or files."""
    problems = []
    for index, uid in _free_slots():
        if isolation.processes_of(uid):
            problems.append(f"processes of {isolation.USER_PREFIX}{index} survived: {isolation.processes_of(uid)}")
        if (isolation.STATE_DIR / f"work{index}").exists():
            problems.append(f"work{index} was not removed")
    return problems


def reclaim_free_slots() -> None:
    """Clean what a grader killed earlier on this machine left in the free sandbox slots.

    Does for every slot no grader holds what acquiring it does in normal use
    (that is how a killed run's leftovers are reclaimed): kill its user's
    processes and remove its working directory.
    """
    for index, uid in _free_slots():
        isolation.kill_user(uid)
        isolation.remove_tree(isolation.STATE_DIR / f"work{index}")


def _digest(paths) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


needs_isolation = pytest.mark.skipif(not isolation.available(), reason="sandbox isolation needs root")


@needs_isolation
@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_submission_earns_nothing_unearned(case, tmp_path):
    cells, honest_max, must_fail = CASES[case]
    reclaim_free_slots()  # so that what is left over afterwards is this run's doing
    protected = [SOLUTION, *EXERCISE.suite_dir.glob("*.py"), EXERCISE.release_path]
    before = _digest(protected)
    notebook = with_cells(SOLUTION, tmp_path / "submitted" / "mallory" / "week01" / "attention.ipynb", cells)
    submitted = notebook.read_bytes()
    report = grade_notebook(notebook, EXERCISE, hide=[str(tmp_path)], limits=LIMITS)
    assert report["max_score"] == 17
    assert report["score"] <= honest_max, (case, report["score"], [t["message"] for t in report["tests"] if t["passed"]])
    missed = must_fail - failed_tests(report)
    assert not missed, f"{case} passed {sorted(missed)}"
    assert len(report.get("notebook", {}).get("output", "")) < 2 * 1024**2, "the output was not trimmed"
    assert notebook.read_bytes() == submitted, "the submission was modified"
    assert _digest(protected) == before, "instructor files were modified"
    assert not CANARY.exists() and not (REPO_ROOT / "pwned.txt").exists()
    assert free_slots_are_clean() == []


CORRECT_BUT_NOISY = {
    "scaled_dot_product_attention": (
        "import sys, time, warnings\n"
        "time.sleep(1.5)  # a slow import\n"
        "print('debugging output', file=sys.stderr)\n"
        "warnings.warn('this API is deprecated', DeprecationWarning)\n"
        "warnings.warn('a user warning')\n"
    )
    + attention().replace(
        "mask=None):\n",
        "mask=None):\n    print('called', file=sys.stderr)\n    warnings.warn('inside a graded function')\n",
    )
}


@pytest.mark.slow
def test_noise_on_stderr_costs_a_correct_submission_nothing(tmp_path):
    notebook = with_cells(SOLUTION, tmp_path / "noisy.ipynb", CORRECT_BUT_NOISY)
    report = grade_notebook(notebook, EXERCISE, limits=LIMITS)
    assert report["score"] == report["max_score"], failed_tests(report)
