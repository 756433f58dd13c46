"""A whole search, resumable: data split, supernet, ``fit``, derivation.

``run_search`` is what ``tools/search.py`` runs. Into ``output_dir`` it
writes the architecture logger's files every epoch, ``checkpoint.npz`` after
every epoch, and at the end ``arch.json`` (the derived architecture),
``search_result.json`` and ``supernet.json`` (what rebuilds the trained
supernet, for deriving more architectures later: ``training.derive_job``). Started again with the same arguments after a crash
or a kill, it continues from the last finished epoch and derives the same
architecture as an uninterrupted run (see ``training.checkpoint``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Any

import numpy as np

from fbnetv2_tf import data as data_lib
from fbnetv2_tf.cost.losses import ResourceLoss
from fbnetv2_tf.errors import UserError
from fbnetv2_tf.search.config import SearchConfig
from fbnetv2_tf.search import evaluation
from fbnetv2_tf.search.evaluation import DeriveConfig
from fbnetv2_tf.specs import arch_spec
from fbnetv2_tf.specs.files import write_atomically
from fbnetv2_tf.specs.search_space import SearchSpace
from fbnetv2_tf.training import checkpoint
from fbnetv2_tf.training import precision as precisions
from fbnetv2_tf.training import preflight
from fbnetv2_tf.training import run_setup


@dataclasses.dataclass(frozen=True)
class SearchJob:
  """Everything a search needs besides its data.

  Attributes:
    space: the search space.
    output_dir: where logs, checkpoints and the result go.
    epochs: search epochs, warm-up included.
    batch_size: global batch of each split per step.
    steps_per_epoch: at most this many steps per epoch (None: one pass over
      the weight split).
    seed: seeds weights, Gumbel noise, data order and augmentation.
    config: optimizers, warm-up, temperature schedule and resource loss.
    latency_table: a LatencyTable, for the ``latency_ms`` metric.
    strategy: a ``tf.distribute`` strategy (None: the default one).
    verbose: ``fit`` verbosity.
    gumbel_mode: ``soft`` (each example runs a blend of options, sharpening
      as the temperature falls) or ``hard`` (straight-through: each example
      runs one sampled child; trains far slower at first, see README).
    derive: how the finished search picks its architecture (argmax, or by
      evaluating candidates on the architecture split).
    resolution_sampling: ``all`` (each step runs the network at every
      resolution option and mixes the logits) or ``one`` (each step runs
      one sampled resolution; ``models.supernet``).
    precision: ``float32``, ``mixed_float16`` (with loss scaling) or
      ``mixed_bfloat16``: the dtype policy the supernet is built under
      (``training.precision``); logits and cost stay float32.
    jit_compile: compile the search step with XLA (needs
      ``deterministic=False``: Keras does not compile with XLA under op
      determinism).
    deterministic: TensorFlow's op determinism on and Grappler off
      (``run_setup.make_deterministic``), so that a run, and a resumed run,
      repeat bit for bit; seeds are set either way.
  """

  space: SearchSpace
  output_dir: str
  epochs: int = 10
  batch_size: int = 64
  steps_per_epoch: int | None = None
  seed: int = 0
  config: SearchConfig = SearchConfig()
  latency_table: Any = None
  strategy: Any = None
  verbose: int = 1
  gumbel_mode: str = "soft"
  derive: DeriveConfig = DeriveConfig()
  resolution_sampling: str = "all"
  precision: str = "float32"
  jit_compile: bool = False
  deterministic: bool = True


@dataclasses.dataclass
class SearchResult:
  """What a search derived and what it measured on the way."""

  arch: Any                     # ArchSpec of the derived child
  expected_cost: float          # under the final softmax probabilities
  counted_cost: float           # of the derived child, same metric
  budget_changes: int           # decisions fit_budget changed after argmax
  supernet_test_accuracy: float  # argmax child inside the supernet
  history: dict
  probabilities: dict           # final softmax(alpha) of every decision
  supernet: Any = None          # the trained Supernet (not serialized)
  derive_seconds: float = 0.0   # the derivation's time
  predicted_accuracy: float | None = None  # by evaluation: the child's score
  candidates: tuple = ()        # by evaluation: every scored candidate

  def to_dict(self) -> dict:
    return {"arch": self.arch.name, "expected_cost": self.expected_cost,
            "counted_cost": self.counted_cost,
            "budget_changes": self.budget_changes,
            "supernet_test_accuracy": self.supernet_test_accuracy,
            "derive_seconds": self.derive_seconds,
            "predicted_accuracy": self.predicted_accuracy,
            "candidates": list(self.candidates),
            "history": self.history, "probabilities": self.probabilities}


def _build(job: SearchJob, data, steps_per_epoch: int):
  """The compiled supernet under the job's strategy."""
  from fbnetv2_tf.search.search_model import Supernet  # pylint: disable=g-import-not-at-top  (TensorFlow)
  # The policy only while the supernet is made (its layers keep it).
  with precisions.applied(job.precision), job.strategy.scope():
    net = Supernet(job.space, num_classes=data.num_classes,
                   input_channels=data.image_shape[2], seed=job.seed,
                   mode=job.gumbel_mode,
                   resolution_sampling=job.resolution_sampling)
    net.compile(search_config=job.config,
                total_steps=job.epochs * steps_per_epoch,
                latency_table=job.latency_table,
                jit_compile=job.jit_compile)
    net.build_for_input()
    net.bilevel.build_optimizers()
  return net


def _optimizers(net):
  return [net.optimizer, net.bilevel.arch_optimizer]


def check_job(job: SearchJob, data) -> None:
  """Everything about ``job`` on ``data`` that can fail before the first
  step, checked without writing anything: image size, batch size against
  the weight split, the budget against the space's cheapest and dearest
  child, the output directory."""
  precisions.check(job.precision)
  precisions.check_jit_compile(job.jit_compile, job.deterministic)
  if job.jit_compile and len(job.space.input_sizes) > 1:
    # Measured: the supernet's antialiased resize (ScaleAndTranslate) has no
    # XLA kernel, so the first step would fail halfway through fit.
    raise UserError(f"jit_compile cannot compile the space "
                    f"{job.space.name!r}: XLA has no kernel for the resize "
                    "of its resolution decision (a space with one input "
                    "size compiles)")
  preflight.check_image_size(data, job.space.max_input_size,
                             f"the space {job.space.name!r}")
  weight_split, _ = data_lib.split_for_search(data, job.seed)
  preflight.check_batch_size(job.batch_size, len(weight_split[1]),
                             "weight split")
  preflight.check_budget(job.space, job.config.loss, data.num_classes,
                         data.image_shape[2], job.latency_table)
  if (job.derive.method == evaluation.EVALUATE
      and job.config.loss.form != "budget"):
    raise UserError("derivation by evaluation scores candidates inside a "
                    "budget band: it needs the budget loss with a target")
  preflight.check_output_dir(job.output_dir)


def run_search(job: SearchJob, data, step_hook=None) -> SearchResult:
  """Searches ``job.space`` on ``data`` (an ``ImageData``); resumable.

  ``step_hook``, if given, is called with the compiled ``BilevelStep``
  before training (ablations, e.g. cutting a gradient path).
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf import callbacks as cb  # pylint: disable=g-import-not-at-top
  check_job(job, data)
  job = dataclasses.replace(job, strategy=job.strategy or tf.distribute.get_strategy())
  run_setup.make_deterministic(job.seed, job.deterministic)
  os.makedirs(job.output_dir, exist_ok=True)
  weight_split, arch_split = data_lib.split_for_search(data, job.seed)
  steps = len(weight_split[1]) // job.batch_size
  if job.steps_per_epoch is not None:
    steps = min(steps, job.steps_per_epoch)
  net = _build(job, data, steps)
  if step_hook is not None:
    step_hook(net.bilevel)
  test = data_lib.eval_dataset(data.test_images, data.test_labels,
                               job.batch_size)
  checkpoint.resumable_fit(
      net, job.output_dir, lambda: _optimizers(net),
      lambda first_epoch: data_lib.search_dataset(
          weight_split, arch_split, job.batch_size, job.seed, job.epochs,
          first_epoch=first_epoch, flip=data.flip, max_steps=steps)[0],
      job.epochs, steps, "search",
      callbacks=[cb.ArchLogger(job.output_dir)],
      validation_data=test, verbose=job.verbose)
  return _derive(job, net, data, test, weight_split, arch_split)


def derivation_data(data, weight_split, arch_split, config: DeriveConfig,
                    seed: int = 0):
  """``(calibration images, (validation images, labels))`` for derivation
  by evaluation: normalized training images of the weight split, and the
  architecture split, which the weights never trained on. Each is a random
  subset fixed by ``seed`` where the config caps it: the splits keep the
  training set's order, which can be sorted by class."""
  rng = np.random.default_rng(seed)

  def subset(images, labels, count):
    if count is None or count >= len(images):
      return images, labels
    keep = np.sort(rng.permutation(len(images))[:count])
    return images[keep], labels[keep]

  calibration, _ = subset(*weight_split, config.calibration_images)
  images, labels = subset(*arch_split, config.validation_images)
  return data_lib.normalize(calibration), (data_lib.normalize(images), labels)


def _derive(job: SearchJob, net, data, test, weight_split, arch_split
            ) -> SearchResult:
  loss: ResourceLoss = job.config.loss
  target = loss.target if loss.form == "budget" else None
  start = time.time()
  if job.derive.method == evaluation.EVALUATE:
    calibration, validation = derivation_data(data, weight_split, arch_split,
                                              job.derive, job.seed)
    derived = evaluation.derive_by_evaluation(
        net, target, loss.metric, calibration, validation,
        job.derive.candidates, loss.band, job.derive.fill,
        job.latency_table, job.seed)
  else:
    derived = net.derivation(target, loss.metric,
                             latency_table=job.latency_table, band=loss.band,
                             fill=job.derive.fill)
  seconds = time.time() - start
  arch = derived.arch
  expected = float(net.expected_cost(net.probabilities(), loss.metric,
                                     job.latency_table))
  accuracy = float(net.evaluate(test, verbose=0, return_dict=True)["accuracy"])
  probabilities = {n: [float(x) for x in p]
                   for n, p in net.probabilities().items()}
  result = SearchResult(arch, expected, derived.cost, derived.changes,
                        accuracy, _read_history(job.output_dir), probabilities,
                        net, seconds, derived.accuracy, derived.candidates)
  arch_spec.save_archs(os.path.join(job.output_dir, "arch.json"), [arch])
  write_atomically(os.path.join(job.output_dir, SUPERNET_FILE), json.dumps(
      supernet_description(job, net), indent=1) + "\n")
  write_atomically(os.path.join(job.output_dir, "search_result.json"),
                   json.dumps({**result.to_dict(), "metric": loss.metric},
                              indent=1) + "\n")
  return result


# What a finished search directory needs to rebuild its supernet from
# ``checkpoint.npz`` (``training.derive_job``).
SUPERNET_FILE = "supernet.json"


def supernet_description(job: SearchJob, net) -> dict:
  """The supernet's constructor arguments and the search's budget."""
  loss: ResourceLoss = job.config.loss
  return {"space": job.space.to_dict(), "num_classes": net.num_classes,
          "input_channels": net.input_channels, "seed": job.seed,
          "gumbel_mode": job.gumbel_mode,
          "resolution_sampling": job.resolution_sampling,
          "metric": loss.metric,
          "target": loss.target if loss.form == "budget" else None,
          "band": loss.band}


def _read_history(directory: str) -> dict:
  """Per-epoch metrics from the architecture log. It spans resumed runs; an
  epoch logged by a killed run and run again keeps its last record."""
  path = os.path.join(directory, "search_log.jsonl")
  by_epoch = {}
  if os.path.exists(path):
    with open(path, encoding="utf-8") as f:
      for line in f:
        record = json.loads(line)
        by_epoch[record["epoch"]] = record
  history: dict[str, list] = {}
  for epoch in sorted(by_epoch):
    for k, v in by_epoch[epoch].items():
      if isinstance(v, (int, float)):
        history.setdefault(k, []).append(v)
  return history

