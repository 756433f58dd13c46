"""Epoch checkpoints that make a killed ``fit`` resumable, exactly.

A checkpoint holds every variable of the model (weights, BatchNorm
statistics, architecture logits, temperatures and the random-seed states of
the Gumbel noise) and of its optimizers, plus the number of finished epochs.
It is written once per epoch through a temporary file and a rename, so a
process killed at any moment leaves the previous or the new checkpoint,
never a torn one. Resuming restores all of it; with a data pipeline whose
epoch ``e`` depends only on ``(seed, e)`` (``fbnetv2_tf.data``), the resumed
run computes exactly what the uninterrupted run would have.
"""

from __future__ import annotations

import io
import os
from typing import Callable, Sequence

import keras
import numpy as np

from fbnetv2_tf.cli import UserError
from fbnetv2_tf.specs.files import write_atomically

CHECKPOINT = "checkpoint.npz"
_EPOCH = "finished_epochs"


def _state(model, optimizers) -> list:
  variables = list(model.variables)
  for optimizer in optimizers:
    variables.extend(optimizer.variables)
  return variables


def save(path: str, model, optimizers: Sequence, finished_epochs: int) -> None:
  """Writes the state of ``model`` and ``optimizers`` atomically."""
  arrays = {f"v{i}": np.asarray(v) for i, v in
            enumerate(_state(model, optimizers))}
  buffer = io.BytesIO()
  np.savez(buffer, **arrays, **{_EPOCH: np.int64(finished_epochs)})
  write_atomically(path, buffer.getvalue())


def restore(path: str, model, optimizers: Sequence) -> int:
  """Loads a checkpoint into built ``model`` and ``optimizers``.

  Returns:
    The number of finished epochs (the epoch to continue with), or 0 when
    there is no checkpoint.

  Raises:
    UserError: the checkpoint does not fit this model (other flags).
  """
  if not os.path.exists(path):
    return 0
  variables = _state(model, optimizers)
  with np.load(path) as data:
    count = len(data.files) - 1
    if count != len(variables):
      raise UserError(f"{path} holds {count} variables, this run has "
                      f"{len(variables)}: it was made with other flags; use "
                      "another --output_dir or the original flags")
    for i, v in enumerate(variables):
      value = data[f"v{i}"]
      if tuple(value.shape) != tuple(v.shape):
        raise UserError(f"{path}: variable {v.path} has shape "
                        f"{value.shape}, this run {tuple(v.shape)}: made "
                        "with other flags; use another --output_dir")
      v.assign(value)
    return int(data[_EPOCH])


class EpochCheckpoint(keras.callbacks.Callback):
  """Saves a checkpoint at the end of every epoch whose logs are finite.

  Args:
    path: the checkpoint file.
    optimizers: returns the optimizers to save (looked up when saving, as
      ``compile`` may create them after the callback).
  """

  def __init__(self, path: str, optimizers: Callable[[], Sequence]):
    super().__init__()
    self.path = path
    self.optimizers = optimizers

  def on_epoch_end(self, epoch, logs=None):
    values = [float(v) for v in (logs or {}).values()
              if np.ndim(v) == 0]
    if not all(np.isfinite(values)):
      return  # keep the last good state (a NaN run stops right after)
    save(self.path, self.model, self.optimizers(), epoch + 1)
