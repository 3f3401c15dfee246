"""The course's grading engine: release, grade, autograde and export.

See autograder/cli.py for the commands and COURSE_DESIGN.md for the seam
between hidden tests and student code.
"""

import os
import sys

# nbgrader runs the `alembic` console script when it creates a gradebook; make
# the scripts of the environment we run in findable even when it is not activated.
_BIN = os.path.dirname(sys.executable)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")
