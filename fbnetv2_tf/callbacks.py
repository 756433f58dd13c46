"""Callbacks of the search and training jobs: architecture logging, the NaN
stop and the run's progress line. (The temperature schedule and the warm-up
switch are part of the step: ``search.bilevel``.)"""

from __future__ import annotations

import json
import math
import os
import sys
import time

import keras
import numpy as np

from fbnetv2_tf.search.bilevel import decision_entropy
from fbnetv2_tf.specs import arch_spec
from fbnetv2_tf.specs.files import atomic_path, write_atomically

def peak_memory_mb() -> float:
  """The accelerator's peak memory in use since the process started, when
  there is a GPU (TensorFlow's allocator statistics), else the process's
  peak resident memory."""
  import resource  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if tf.config.list_logical_devices("GPU"):
    return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
  # ru_maxrss is in KiB on Linux.
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def non_finite_metrics(logs) -> list[str]:
  """Names of the scalar metrics in Keras ``logs`` that are NaN or inf."""
  return sorted(k for k, v in (logs or {}).items()
                if np.ndim(v) == 0 and not math.isfinite(float(v)))


class StopOnNaN(keras.callbacks.Callback):
  """Stops training at the first non-finite loss and remembers where.

  ``EpochCheckpoint`` skips epochs with non-finite logs, so the checkpoint on
  disk stays the last good one; ``failure`` says what happened, for the
  caller to report.
  """

  def __init__(self):
    super().__init__()
    self.failure: str | None = None
    self._epoch = 0

  def on_epoch_begin(self, epoch, logs=None):
    self._epoch = epoch

  def on_train_batch_end(self, batch, logs=None):
    bad = non_finite_metrics(logs)
    if bad and self.failure is None:
      self.failure = (f"{', '.join(bad)} became non-finite in epoch "
                      f"{self._epoch + 1}, step {batch + 1}")
      self.model.stop_training = True


def _duration(seconds: float) -> str:
  minutes, seconds = divmod(round(seconds), 60)
  hours, minutes = divmod(minutes, 60)
  return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


class RunProgress(keras.callbacks.Callback):
  """After each epoch, one line with the time spent and an estimate of the
  time left in the whole run (Keras' own bar estimates one epoch at most).

  Args:
    what: names the run ("search", "training").
    stream: where the line goes (default: stdout).
  """

  def __init__(self, what: str, stream=None):
    super().__init__()
    self.what = what
    self.stream = stream
    self._start = None
    self._first_epoch = 0

  def on_train_begin(self, logs=None):
    self._start = time.monotonic()
    self._first_epoch = None

  def on_epoch_begin(self, epoch, logs=None):
    if self._first_epoch is None:
      self._first_epoch = epoch  # a resumed run starts later

  def on_epoch_end(self, epoch, logs=None):
    epochs = self.params.get("epochs") or epoch + 1
    done = epoch + 1 - self._first_epoch
    elapsed = time.monotonic() - self._start
    left = elapsed / done * (epochs - epoch - 1)
    print(f"{self.what}: epoch {epoch + 1}/{epochs} done, "
          f"{_duration(elapsed)} elapsed, about {_duration(left)} left",
          file=self.stream or sys.stdout, flush=True)


class ArchLogger(keras.callbacks.Callback):
  """Writes the state of the architecture distribution every epoch.

  Into ``directory``: TensorBoard scalars (each decision's entropy and
  option probabilities, the epoch's metrics) and logit histograms under
  ``tensorboard/``; ``probabilities.png``, a heatmap of every decision's
  option probabilities; ``arch.json``, the current argmax architecture;
  ``search_log.jsonl``, one JSON line of metrics and probabilities per epoch,
  with the epoch's steps, their time from the end of the first to the end of
  the last (``step_seconds``: the steady-state step, without the first
  step's tracing; 0 for a one-step epoch) and the peak memory so far
  (``peak_memory_mb``: ``peak_memory_mb()``).
  """

  def __init__(self, directory: str, heatmap: bool = True):
    super().__init__()
    self.directory = directory
    self.heatmap = heatmap
    self._writer = None
    self._batch_ends = []

  def on_epoch_begin(self, epoch, logs=None):
    self._batch_ends = []

  def on_train_batch_end(self, batch, logs=None):
    self._batch_ends.append(time.monotonic())

  def _timing(self) -> dict:
    ends = self._batch_ends
    return {"steps": len(ends),
            "step_seconds": ((ends[-1] - ends[0]) / (len(ends) - 1)
                             if len(ends) > 1 else 0.0),
            "peak_memory_mb": peak_memory_mb()}

  def _summary_writer(self):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    if self._writer is None:
      self._writer = tf.summary.create_file_writer(
          os.path.join(self.directory, "tensorboard"))
    return self._writer

  def on_epoch_end(self, epoch, logs=None):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    net = self.model
    os.makedirs(self.directory, exist_ok=True)
    probabilities = net.probabilities()
    entropies = {n: float(decision_entropy(d.logits))
                 for n, d in net.decisions.items()}
    metrics = {k: float(v) for k, v in (logs or {}).items()
               if np.ndim(v) == 0}
    with self._summary_writer().as_default(step=epoch + 1):
      for name, value in metrics.items():
        tf.summary.scalar(f"search/{name}", value)
      for name, p in probabilities.items():
        tf.summary.scalar(f"entropy/{name}", entropies[name])
        for i, value in enumerate(p):
          tf.summary.scalar(f"probability/{name}/{i}", float(value))
        tf.summary.histogram(f"logits/{name}", net.decisions[name].logits)
    self._summary_writer().flush()
    arch = net.derive_argmax()
    write_atomically(os.path.join(self.directory, "arch.json"),
                     arch_spec.archs_to_json([arch]))
    record = {"epoch": epoch + 1, **metrics, **self._timing(),
              "entropy": entropies,
              "probabilities": {n: [round(float(x), 5) for x in p]
                                for n, p in probabilities.items()}}
    with open(os.path.join(self.directory, "search_log.jsonl"), "a",
              encoding="utf-8") as f:
      f.write(json.dumps(record) + "\n")
    if self.heatmap:
      plot_probabilities(probabilities, os.path.join(
          self.directory, "probabilities.png"), f"epoch {epoch + 1}",
          option_labels(net.decision_list))


def option_labels(decisions) -> dict[str, list[str]]:
  """Each decision's options by value: ``32px``, ``k3``-style op names,
  ``e4``, ``c24``."""
  prefix = {"resolution": "{}px", "expansion": "e{:g}", "out": "c{}",
            "op": "{}"}
  return {d.name: [prefix.get(d.kind, "{}").format(o) for o in d.options]
          for d in decisions}


def plot_probabilities(probabilities, path: str, title: str = "",
                       labels=None) -> None:
  """A heatmap: one row per decision, one cell per option (labelled with
  its value where ``labels`` gives them), written atomically."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")  # files only; no display here or in CI
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  names = list(probabilities)
  labels = labels or {}
  width = max(len(p) for p in probabilities.values())
  grid = np.full((len(names), width), np.nan)
  for r, name in enumerate(names):
    grid[r, :len(probabilities[name])] = probabilities[name]
  fig, ax = plt.subplots(figsize=(1.6 + 1.1 * width, 0.8 + 0.45 * len(names)))
  image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
  for r, name in enumerate(names):
    for c in range(width):
      if not np.isnan(grid[r, c]):
        label = labels.get(name, [str(i) for i in range(width)])[c]
        ax.text(c, r, f"{label}\n{grid[r, c]:.2f}", ha="center",
                va="center", fontsize=6,
                color="white" if grid[r, c] < 0.6 else "black")
  ax.set_yticks(range(len(names)), names, fontsize=8)
  ax.set_xticks(range(width), [str(i) for i in range(width)])
  ax.set_xlabel("option (value and probability in each cell)")
  ax.set_title(f"option probabilities {title}".strip(), fontsize=9)
  fig.colorbar(image, ax=ax, fraction=0.04)
  fig.tight_layout()
  with atomic_path(path) as tmp:
    fig.savefig(tmp, dpi=100)
  plt.close(fig)
