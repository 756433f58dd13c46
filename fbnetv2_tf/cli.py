"""Shared behaviour of the command-line binaries."""

from __future__ import annotations

import functools
import logging
import os
import sys

from absl import flags
from absl import logging as absl_logging

from fbnetv2_tf.specs.errors import SpecError


class UserError(Exception):
  """A mistake in the user's input; reported in one line, no traceback."""


USER_ERRORS = (SpecError, UserError, FileNotFoundError)


def quiet_tensorflow_logs() -> None:
  """Keeps TensorFlow's C++ and Python INFO chatter out of tool output."""
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  logging.getLogger("tensorflow").setLevel(logging.WARNING)
  # TensorFlow's SavedModel code logs through absl at INFO; keep a user's
  # explicit --verbosity.
  if not flags.FLAGS["verbosity"].present:
    absl_logging.set_verbosity(absl_logging.WARNING)


def report_user_errors(main):
  """Wraps an ``absl`` main so user mistakes exit 1 with a one-line message.

  The binaries take flags only, so stray positional arguments are such a
  mistake too.
  """

  @functools.wraps(main)
  def wrapper(argv):
    try:
      if len(argv) > 1:
        raise UserError(f"unexpected arguments: {' '.join(argv[1:])}")
      return main(argv)
    except USER_ERRORS as e:
      message = str(e).splitlines()[0] if str(e) else type(e).__name__
      print(f"error: {message}", file=sys.stderr)
      sys.exit(1)

  return wrapper
