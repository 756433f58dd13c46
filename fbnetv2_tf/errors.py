"""The errors a user can fix, in one hierarchy.

Every exception here is a mistake in the user's input or environment (a bad
file, an impossible budget, no device): its message is one line that names
the argument, file or device concerned, never a command-line flag, so the
library reads the same from Python as from a binary. The binaries
(``fbnetv2_tf.cli``) catch :class:`UserError` and print that line; anything
else is a bug and keeps its traceback. Importing this module imports nothing
else of the package (nor absl, nor TensorFlow).
"""


class UserError(Exception):
  """A mistake in the user's input; reported in one line, no traceback."""


class SpecError(UserError, ValueError):
  """An architecture or search-space description is invalid.

  The message names the location, e.g. ``FBNetV2_F1: stage 3, block 1:
  field 'stride': must be 1 or 2, got 3``, so a user can find the entry in a
  JSON file (``specs.locations.location`` formats the prefix). A
  ``ValueError`` too, as callers that validate values expect.
  """


class DataError(UserError):
  """A dataset cannot be loaded as asked; the message names dataset or path."""


class RunnerError(UserError):
  """A latency runner cannot run (no device, missing binary, ...)."""


class DeviceLost(RunnerError):
  """The device went away mid-run; what was measured before is kept."""


class TrainingStopped(UserError):
  """Training stopped on a non-finite loss; the checkpoint is intact."""
