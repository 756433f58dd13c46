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
from typing import Any, Callable, Sequence

import keras
import numpy as np

from fbnetv2_tf.callbacks import RunProgress, StopOnNaN, non_finite_metrics
from fbnetv2_tf.errors import TrainingStopped, UserError
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
  return _load(path, _state(model, optimizers), exact=True)


def restore_model(path: str, model) -> int:
  """Loads only the model's variables of a checkpoint (they come first), to
  use a trained model without its optimizers; the finished epochs.

  Raises:
    UserError: no checkpoint, or one that does not fit this model.
  """
  if not os.path.exists(path):
    raise UserError(f"{path}: no checkpoint (the run never finished an "
                    "epoch)")
  return _load(path, list(model.variables), exact=False)


def _load(path: str, variables: list, exact: bool) -> int:
  with np.load(path) as data:
    count = len(data.files) - 1
    if count < len(variables) or (exact and count != len(variables)):
      raise UserError(f"{path} holds {count} variables, this run has "
                      f"{len(variables)}: it was made with other settings; use "
                      "another output directory or the original settings")
    for i, v in enumerate(variables):
      value = data[f"v{i}"]
      if tuple(value.shape) != tuple(v.shape):
        raise UserError(f"{path}: variable {v.path} has shape "
                        f"{value.shape}, this run {tuple(v.shape)}: made "
                        "with other settings; use another output directory")
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
    if non_finite_metrics(logs):
      return  # keep the last good state (a NaN run stops right after)
    save(self.path, self.model, self.optimizers(), epoch + 1)


def resumable_fit(model, directory: str, optimizers: Callable[[], Sequence],
                  make_dataset: Callable[[int], Any], epochs: int,
                  steps_per_epoch: int, what: str, callbacks=(),
                  **fit_kwargs) -> dict[str, list[float]]:
  """``model.fit`` that resumes from and checkpoints into ``directory``.

  Restores the checkpoint if there is one, fits the unfinished epochs on
  ``make_dataset(first_epoch)`` with a checkpoint after each finite epoch,
  and stops at the first non-finite loss.

  Args:
    model: a built and compiled model.
    directory: where ``checkpoint.npz`` lives.
    optimizers: returns the optimizers whose state is checkpointed.
    make_dataset: the data of epochs ``first_epoch ..`` given
      ``first_epoch`` (``fbnetv2_tf.data`` pipelines).
    epochs: epochs in all.
    steps_per_epoch: batches per epoch.
    what: names the run in messages ("search", "training").
    callbacks: more callbacks for ``fit``.
    **fit_kwargs: more ``fit`` arguments (``validation_data``, ``verbose``).

  Returns:
    The per-epoch metrics of the epochs this call ran (none when the
    checkpoint had finished them all).

  Raises:
    UserError: the checkpoint was made with other flags.
    TrainingStopped: a loss became non-finite.
  """
  path = os.path.join(directory, CHECKPOINT)
  first_epoch = restore(path, model, optimizers())
  if first_epoch >= epochs:
    return {}
  if first_epoch:
    print(f"Resuming from {path}: {first_epoch} of {epochs} epochs done.")
  stop = StopOnNaN()
  if fit_kwargs.get("verbose", "auto"):
    callbacks = [*callbacks, RunProgress(what)]
  fitted = model.fit(make_dataset(first_epoch), epochs=epochs,
                     initial_epoch=first_epoch,
                     steps_per_epoch=steps_per_epoch,
                     shuffle=False,  # the dataset orders each epoch itself
                     callbacks=[*callbacks, stop,
                                EpochCheckpoint(path, optimizers)],
                     **fit_kwargs)
  if stop.failure:
    raise TrainingStopped(f"{what} stopped: {stop.failure}; the last good "
                          f"checkpoint is {path}")
  return {k: [float(x) for x in v] for k, v in fitted.history.items()}
