"""Training a derived (or zoo) architecture from scratch, resumably.

FBNetV2 trains the derived network from scratch with no masks (docs/method.md,
section 9). The recipe here is the search's weight recipe: SGD with
momentum 0.9, a cosine learning rate and weight decay, cross-entropy, light
augmentation. Into ``output_dir`` it writes ``checkpoint.npz`` every epoch
(a killed run started again continues), ``NAME.keras`` and ``train_result.json``.
"""

from __future__ import annotations

import dataclasses
import json
import os

from fbnetv2_tf import data as data_lib
from fbnetv2_tf.specs.arch_spec import ArchSpec
from fbnetv2_tf.specs.files import atomic_path, write_atomically
from fbnetv2_tf.training import checkpoint
from fbnetv2_tf.training import precision as precisions
from fbnetv2_tf.training import preflight
from fbnetv2_tf.training import run_setup


@dataclasses.dataclass(frozen=True)
class TrainJob:
  """How to train a child.

  Attributes:
    output_dir: checkpoint, model and result go here.
    epochs: training epochs.
    batch_size: global batch.
    learning_rate: initial SGD learning rate (cosine to 0).
    momentum: SGD momentum.
    weight_decay: decoupled weight decay.
    seed: seeds initialisation, data order and augmentation.
    steps_per_epoch: at most this many steps per epoch (None: one pass
      over the training images).
    strategy: a ``tf.distribute`` strategy (None: the default one).
    verbose: ``fit`` verbosity.
    precision: ``float32``, ``mixed_float16`` (with loss scaling) or
      ``mixed_bfloat16``: the dtype policy the child is built and trained
      under (``training.precision``); the saved model is float32 either way.
    jit_compile: compile the train step with XLA (needs
      ``deterministic=False``, as for ``SearchJob``).
    deterministic: TensorFlow's op determinism on and Grappler off
      (``run_setup.make_deterministic``); seeds are set either way.
  """

  output_dir: str
  epochs: int = 10
  batch_size: int = 64
  learning_rate: float = 0.1
  momentum: float = 0.9
  weight_decay: float = 1e-4
  seed: int = 0
  steps_per_epoch: int | None = None
  strategy: object = None
  verbose: int = 1
  precision: str = "float32"
  jit_compile: bool = False
  deterministic: bool = True


@dataclasses.dataclass
class TrainResult:
  arch: str
  test_accuracy: float
  test_loss: float
  model_path: str
  history: dict


def check_job(arch: ArchSpec, data, job: TrainJob) -> None:
  """What can fail before the first step, checked without writing."""
  precisions.check(job.precision)
  precisions.check_jit_compile(job.jit_compile, job.deterministic)
  preflight.check_image_size(data, arch.input_size, arch.name)
  preflight.check_batch_size(job.batch_size, len(data.train_labels),
                             "training set")
  preflight.check_output_dir(job.output_dir)


def fit_model(model, data, job: TrainJob, strategy=None):
  """The child recipe on any Keras classifier that outputs logits: SGD with
  momentum and weight decay, cosine learning rate over the run, resumable
  epochs in ``job.output_dir``, then the test split. Used for children and
  for baselines built elsewhere (``keras.applications``), so that both
  train the same way. Returns ``(history, test loss, test accuracy)``."""
  import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  strategy = strategy or tf.distribute.get_strategy()
  os.makedirs(job.output_dir, exist_ok=True)
  steps = len(data.train_labels) // job.batch_size
  if job.steps_per_epoch is not None:
    steps = min(steps, job.steps_per_epoch)
  with strategy.scope():
    schedule = keras.optimizers.schedules.CosineDecay(
        job.learning_rate, decay_steps=job.epochs * steps)
    model.compile(
        optimizer=keras.optimizers.SGD(schedule, momentum=job.momentum,
                                       weight_decay=job.weight_decay),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"], jit_compile=job.jit_compile)
    model.optimizer.build(model.trainable_variables)
  history = checkpoint.resumable_fit(
      model, job.output_dir, lambda: [model.optimizer],
      lambda first_epoch: data_lib.train_dataset(
          data.train_images, data.train_labels, job.batch_size, job.seed,
          job.epochs, first_epoch=first_epoch, flip=data.flip,
          max_steps=steps)[0],
      job.epochs, steps, "training", verbose=job.verbose)
  test = data_lib.eval_dataset(data.test_images, data.test_labels,
                               job.batch_size)
  loss, accuracy = model.evaluate(test, verbose=0)
  return history, float(loss), float(accuracy)


def train_child(arch: ArchSpec, data, job: TrainJob) -> TrainResult:
  """Trains ``arch`` on ``data`` (an ``ImageData`` at the arch's input size)
  and evaluates it on the test split."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.models.child_model import build_child_model  # pylint: disable=g-import-not-at-top
  check_job(arch, data, job)
  strategy = job.strategy or tf.distribute.get_strategy()
  run_setup.make_deterministic(job.seed, job.deterministic)
  os.makedirs(job.output_dir, exist_ok=True)

  def build():
    return build_child_model(arch, data.num_classes,
                             input_channels=data.image_shape[2])

  # The policy only while the model is made (Keras' compile then wraps the
  # optimizer in a LossScaleOptimizer under mixed_float16).
  with precisions.applied(job.precision), strategy.scope():
    model = build()
  history, loss, accuracy = fit_model(model, data, job, strategy)
  if job.precision != precisions.FLOAT32:
    # A saved child is float32 whatever it trained under (its variables
    # were float32 all along): exports and later runs load float32 layers.
    trained = model
    with precisions.applied(precisions.FLOAT32):
      model = build()
    model.set_weights(trained.get_weights())
  model_path = os.path.join(job.output_dir, f"{arch.name}.keras")
  with atomic_path(model_path) as tmp:
    model.save(tmp)
  result = TrainResult(arch.name, accuracy, loss, model_path, history)
  write_atomically(os.path.join(job.output_dir, "train_result.json"),
                   json.dumps(dataclasses.asdict(result), indent=1) + "\n")
  return result
