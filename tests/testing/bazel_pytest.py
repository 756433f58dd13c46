"""The main of every Bazel py_test: runs pytest on the test file it is given.

A pytest file defines test functions but calls none of them, so as a
py_test's own main it would "pass" without testing anything. Bazel runs
this instead, with the file and pytest options as arguments; pytest's exit
status is the test's, so a failing assertion fails ``bazel test``.
"""

import sys

import pytest

if __name__ == "__main__":
  status = pytest.main([*sys.argv[1:], "-q", "-p", "no:cacheprovider"])
  # A file whose tests are all deselected ("-m 'not slow'") collects none.
  sys.exit(0 if status == pytest.ExitCode.NO_TESTS_COLLECTED else status)
