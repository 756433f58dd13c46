"""The main of every Bazel py_test: runs pytest on the test file it is given.

A pytest file defines test functions but calls none of them, so as a
py_test's own main it would "pass" without testing anything. Bazel runs
this instead, with the file and pytest options as arguments; pytest's exit
status is the test's, so a failing assertion fails ``bazel test``.
"""

import sys

import pytest


class DeselectionCount:
  """A pytest plugin that counts the tests ``-m`` deselected."""

  def __init__(self):
    self.deselected = 0

  def pytest_deselected(self, items):
    self.deselected += len(items)


def exit_status(args) -> int:
  """pytest's exit status on ``args``, except that a file whose tests were
  all deselected (every test slow, under ``-m 'not slow'``) passes. A file
  that collects nothing at all (a typo in a name, a module that defines no
  tests) still fails, with pytest's own status 5."""
  counter = DeselectionCount()
  status = pytest.main([*args, "-q", "-p", "no:cacheprovider"],
                       plugins=[counter])
  if status == pytest.ExitCode.NO_TESTS_COLLECTED and counter.deselected:
    return 0
  return int(status)


if __name__ == "__main__":
  sys.exit(exit_status(sys.argv[1:]))
