"""Shared behaviour of the command-line binaries."""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import logging
import os
import re
import sys
from typing import Sequence

from absl import app
from absl import flags
from absl import logging as absl_logging

from fbnetv2_tf.errors import UserError

# A missing file the user named is theirs to fix too.
USER_ERRORS = (UserError, FileNotFoundError)


def flag_definitions(binary: str):
  """The module of ``flags/BINARY.py``.

  In a checkout (and under Bazel) ``flags/`` and ``tools/`` are top-level
  folders; ``pip install`` puts them at ``fbnetv2_tf.flags`` and
  ``fbnetv2_tf.tools`` (setup.py), so that site-packages gets no top-level
  package with a name as generic as ``flags``.
  """
  if importlib.util.find_spec("fbnetv2_tf.flags") is not None:
    return importlib.import_module(f"fbnetv2_tf.flags.{binary}")
  return importlib.import_module(f"flags.{binary}")


@contextlib.contextmanager
def _stderr_discarded():
  """Sends file descriptor 2 to /dev/null (C++ code writes there directly)."""
  sys.stderr.flush()
  saved = os.dup(2)
  with open(os.devnull, "w", encoding="utf-8") as null:
    os.dup2(null.fileno(), 2)
  try:
    yield
  finally:
    sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)


def flag_defaults() -> dict:
  """Every defined flag's default, for comparing with a run recorded before
  the flag existed (``training.run_setup.record_flags``)."""
  return {name: flags.FLAGS[name].default for name in flags.FLAGS}


def quiet_tensorflow_logs() -> None:
  """Loads TensorFlow without its C++ start-up lines and INFO chatter.

  TensorFlow's C++ code logs through absl before anything can configure it
  (``TF_CPP_MIN_LOG_LEVEL`` does not reach those lines), and probing for a
  GPU on a machine without one logs "failed call to cuInit" as an error. Both
  happen during the import and the first device query, which run here with
  stderr discarded; later warnings and errors still show. Call it before
  anything imports TensorFlow.
  """
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  if "tensorflow" not in sys.modules:
    try:
      with _stderr_discarded():
        import tensorflow as tf  # pylint: disable=g-import-not-at-top
        tf.config.list_physical_devices()
    except ImportError as e:
      raise UserError(f"TensorFlow does not import: {e}") from e
  logging.getLogger("tensorflow").setLevel(logging.WARNING)
  # TensorFlow's SavedModel code logs through absl at INFO; keep a user's
  # explicit --verbosity.
  if not flags.FLAGS["verbosity"].present:
    absl_logging.set_verbosity(absl_logging.WARNING)


# TensorFlow's refusal to run an op that has no deterministic kernel while
# op determinism is on (``training.run_setup.make_deterministic``), in the
# wordings of its kernels: "A deterministic GPU implementation of X is not
# currently available", "Deterministic GPU implementation of X not
# available", "X does not have a deterministic implementation", "X do not
# yet have a deterministic implementation".
_NO_DETERMINISTIC_KERNEL = re.compile(
    r"\bdeterministic (?:GPU |XLA )?implementation", re.I)
_WHAT_HAS_NONE = (
    re.compile(r"\bdeterministic (?:GPU |XLA )?implementation of (.+?)"
               r"(?:,| is | not |\.|$)", re.I | re.M),
    re.compile(r"^\s*(?:HLO instruction )?(.+?) do(?:es)? not (?:yet )?"
               r"have a deterministic", re.I | re.M),
)
_NODE = re.compile(r"\{\{node ([^}]+)\}\}")
_EAGER_OP = re.compile(r"\[Op:(?!__)(\w+)\]")


def nondeterministic_op(error: BaseException) -> str | None:
  """What ``error`` says has no deterministic implementation (with its graph
  node, or its op where it ran eagerly, if the message names one), when
  ``error`` is TensorFlow's ``UnimplementedError`` or
  ``InvalidArgumentError`` for that; None for any other error."""
  tf = sys.modules.get("tensorflow")  # raised by TensorFlow: imported
  if tf is None or not isinstance(error, (tf.errors.UnimplementedError,
                                          tf.errors.InvalidArgumentError)):
    return None
  message = getattr(error, "message", None) or str(error)
  if not _NO_DETERMINISTIC_KERNEL.search(message):
    return None
  found = [m for m in (p.search(message) for p in _WHAT_HAS_NONE) if m]
  what = found[0].group(1).strip() if found else "an op"
  node, op = _NODE.search(message), _EAGER_OP.search(message)
  if node:
    return f"{what} (node {node.group(1)})"
  return f"{what} (op {op.group(1)})" if op else what


def determinism_message(what: str) -> str:
  """The one line a binary prints for :func:`nondeterministic_op`."""
  if "deterministic" in flags.FLAGS:
    advice = "rerun with --nodeterministic (results then vary run to run)"
  else:
    advice = "TensorFlow's op determinism is on in this process"
  return (f"{what} has no deterministic implementation on this device; "
          f"{advice}")


def report_user_errors(main):
  """Wraps an ``absl`` main so user mistakes exit 1 with a one-line message.

  The binaries take flags only, so stray positional arguments are such a
  mistake too. So is an op without a deterministic kernel under
  ``--deterministic``: the line names the op and ``--nodeterministic``.
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
    except Exception as e:  # pylint: disable=broad-except  (re-raised)
      what = nondeterministic_op(e)
      if what is None:
        raise  # a bug: its traceback
      print(f"error: {determinism_message(what)}", file=sys.stderr)
      sys.exit(1)

  return wrapper


def run_binary(binary: str, description: str, main,
               required: Sequence[str] = ()) -> None:
  """Runs an absl binary whose ``--help`` and ``--helpshort`` show
  ``description`` and every flag ``flags/BINARY.py`` defines (its
  ``define_BINARY_flags``).

  absl prints the docstring of ``__main__`` and the key flags of the module
  named ``sys.argv[0]``; a console script's ``__main__`` is a generated
  stub and the flags live in ``flags/``, so both are set here.
  """
  before = set(flags.FLAGS)
  getattr(flag_definitions(binary), f"define_{binary}_flags")()
  for name in sorted(set(flags.FLAGS) - before):
    flags.FLAGS.register_key_flag_for_module(sys.argv[0], flags.FLAGS[name])
  flags.mark_flags_as_required(list(required))
  sys.modules["__main__"].__doc__ = description
  try:
    _check_flagfiles(sys.argv[1:])
    app.run(report_user_errors(main), flags_parser=_parse_flags)
  except (UserError, UnicodeDecodeError) as e:
    # absl reads flagfiles before main runs and reports only its own flag
    # errors; a flagfile that is not text would end in a traceback. Any
    # other decoding error is a bug, not a flagfile, and keeps its trace.
    if isinstance(e, UnicodeDecodeError) and not any(
        a.startswith("--flagfile") for a in sys.argv[1:]):
      raise
    message = (str(e) if isinstance(e, UserError) else
               f"a flagfile is not UTF-8 text ({e.reason} at byte {e.start})")
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def _parse_flags(argv: Sequence[str]) -> list[str]:
  """absl's flag parsing, with its errors (an unknown flag, a value out of
  range or not among an enum's, a missing required flag) as one ``error:``
  line like every other user mistake; absl's own parser adds a second."""
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    print(f"error: {str(e).splitlines()[0]} (--helpshort lists the flags)",
          file=sys.stderr)
    sys.exit(1)


def _check_flagfiles(args: Sequence[str]) -> None:
  """Every ``--flagfile`` on the command line is UTF-8 text (absl itself
  reports a missing one)."""
  for i, arg in enumerate(args):
    if arg.startswith("--flagfile="):
      path = arg.split("=", 1)[1]
    elif arg == "--flagfile" and i + 1 < len(args):
      path = args[i + 1]
    else:
      continue
    try:
      with open(path, encoding="utf-8") as f:
        f.read()
    except UnicodeDecodeError as e:
      raise UserError(f"flagfile {path}: not UTF-8 text (byte {e.start})"
                      ) from None
    except OSError:
      pass  # absl names a missing or unreadable flagfile itself
