"""The supernet's bilevel search step (METHOD section 6).

Each training step takes one batch of the weight split and one of the
architecture split (``((x_w, x_a), (y_w, y_a))``, as
``fbnetv2_tf.data.search_dataset`` yields them) and makes two updates:

1. weights: cross-entropy under freshly sampled Gumbel-softmax weights, the
   model's optimizer (SGD with momentum, cosine learning rate, weight decay);
2. architecture logits: the resource-aware loss (``cost.losses``) under
   another sample, their own optimizer (Adam), skipped in warm-up epochs.

Losses are divided by the number of replicas so that the optimizers' sum
over replicas is the mean over the global batch (``tf.distribute``).
"""

from __future__ import annotations

import dataclasses
import math

import keras
from keras import ops

from fbnetv2_tf.cost.losses import ResourceLoss


@dataclasses.dataclass(frozen=True)
class SearchConfig:
  """Optimizers and schedule of a search (METHOD section 6 defaults).

  Attributes:
    weight_lr: initial SGD learning rate of the weights (cosine to 0).
    momentum: SGD momentum.
    weight_decay: decoupled weight decay of the weights.
    arch_lr: Adam learning rate of the logits.
    arch_weight_decay: decoupled weight decay of the logits.
    warmup_epochs: epochs that train the weights only.
    loss: how CE and the expected cost combine in the architecture step.
  """

  weight_lr: float = 0.1
  momentum: float = 0.9
  weight_decay: float = 1e-4
  arch_lr: float = 0.01
  arch_weight_decay: float = 5e-4
  warmup_epochs: int = 0
  loss: ResourceLoss = ResourceLoss(form="none")

  def weight_optimizer(self, total_steps: int) -> keras.optimizers.Optimizer:
    schedule = keras.optimizers.schedules.CosineDecay(
        self.weight_lr, decay_steps=max(1, total_steps))
    return keras.optimizers.SGD(schedule, momentum=self.momentum,
                                weight_decay=self.weight_decay)

  def arch_optimizer(self) -> keras.optimizers.Optimizer:
    return keras.optimizers.Adam(self.arch_lr,
                                 weight_decay=self.arch_weight_decay)


def _replica_scale() -> float:
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return 1.0 / tf.distribute.get_strategy().num_replicas_in_sync


def _cross_entropy(labels, logits):
  return ops.mean(keras.losses.sparse_categorical_crossentropy(
      labels, logits, from_logits=True))


def decision_entropy(logits):
  """Entropy (nats) of ``softmax(logits)``."""
  log_p = ops.log_softmax(logits)
  return -ops.sum(ops.exp(log_p) * log_p)


class BilevelStep:
  """Metrics and the train/test steps of a compiled Supernet."""

  def __init__(self, net, arch_optimizer, loss: ResourceLoss,
               warmup_epochs: int, latency_table=None):
    self.net = net
    self.arch_optimizer = arch_optimizer
    self.loss = loss
    self.warmup_epochs = warmup_epochs
    self.latency_table = latency_table
    # A Python switch, not a tensor: the warm-up phase compiles a step
    # without the architecture update at all (``ArchPhase`` re-makes the
    # train function when the phase changes).
    self.arch_updates = warmup_epochs == 0
    self.trackers = {name: keras.metrics.Mean(name=name) for name in (
        "loss", "arch_loss", "arch_ce", "cost", "temperature", "entropy")}
    self.accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    self.arch_accuracy = keras.metrics.SparseCategoricalAccuracy(
        name="arch_accuracy")

  @property
  def metrics(self) -> list:
    return [*self.trackers.values(), self.accuracy, self.arch_accuracy]

  def build_optimizers(self) -> None:
    """Creates optimizer slots eagerly (a slot created inside the traced step
    would trace it twice)."""
    self.net.optimizer.build(self.net.weight_variables)
    self.arch_optimizer.build(self.net.arch_variables)

  def expected_cost(self, weights):
    return self.net.expected_cost(weights, self.loss.metric,
                                  self.latency_table)

  def _probabilities(self):
    """``softmax(alpha)`` of every decision, as tensors in the step."""
    return {n: d.probabilities() for n, d in self.net.decisions.items()}

  def _weight_update(self, images, labels):
    net = self.net
    with _gradient_tape() as tape:
      logits = net(images, training=True)
      ce = _cross_entropy(labels, logits)
      scaled = ce * _replica_scale()
    grads = tape.gradient(scaled, net.weight_variables)
    net.optimizer.apply(grads, net.weight_variables)
    self.trackers["loss"].update_state(ce)
    self.accuracy.update_state(labels, logits)

  def _arch_update(self, images, labels):
    net = self.net
    with _gradient_tape() as tape:
      weights = net.sample_weights()
      logits = net.forward(images, weights, training=True)
      ce = _cross_entropy(labels, logits)
      if self.loss.on_probabilities:
        weights = self._probabilities()
      loss = self.loss(ce, self.expected_cost(weights))
      scaled = loss * _replica_scale()
    grads = tape.gradient(scaled, net.arch_variables)
    self.arch_optimizer.apply(grads, net.arch_variables)
    self.trackers["arch_loss"].update_state(loss)
    self.trackers["arch_ce"].update_state(ce)
    self.arch_accuracy.update_state(labels, logits)

  def _log_distribution(self):
    """Cost, temperature and mean entropy of the noise-free distribution."""
    net = self.net
    self.trackers["cost"].update_state(
        self.expected_cost(self._probabilities()))
    first = next(iter(net.decisions.values()))
    self.trackers["temperature"].update_state(first.temperature)
    entropies = [decision_entropy(d.logits) for d in net.decisions.values()]
    self.trackers["entropy"].update_state(
        ops.sum(ops.stack(entropies)) / len(entropies))

  def train_step(self, data):
    (x_w, x_a), (y_w, y_a) = data
    self._weight_update(x_w, y_w)
    if self.arch_updates:
      self._arch_update(x_a, y_a)
    self._log_distribution()
    return {m.name: m.result() for m in self.metrics}

  def test_step(self, data):
    """Loss and accuracy of the current argmax child inside the supernet.

    BatchNorm normalises with the batch's statistics, then its moving
    averages are put back: those were gathered under mixed option weights
    and do not fit a one-hot child (its activations differ in scale), the
    usual problem of evaluating weight-sharing children.
    """
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    images, labels = data[0], data[1]
    net = self.net
    weights = {n: ops.one_hot(ops.argmax(d.logits), d.num_options)
               for n, d in net.decisions.items()}
    state = net.non_trainable_variables
    saved = [tf.identity(v.value) for v in state]
    logits = net.forward(images, weights, training=True)
    with tf.control_dependencies([logits]):
      for v, value in zip(state, saved):
        v.assign(value)
    self.trackers["loss"].update_state(_cross_entropy(labels, logits))
    self.accuracy.update_state(labels, logits)
    return {"loss": self.trackers["loss"].result(),
            "accuracy": self.accuracy.result()}


def _gradient_tape():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return tf.GradientTape()


class ArchPhase(keras.callbacks.Callback):
  """Switches the architecture update on after the warm-up epochs.

  The supernet adds this callback to every ``fit``; a phase change re-makes
  the compiled train function, so each phase traces once.
  """

  def on_epoch_begin(self, epoch, logs=None):
    step = self.model.bilevel
    wanted = epoch >= step.warmup_epochs
    if wanted != step.arch_updates:
      step.arch_updates = wanted
      self.model.make_train_function(force=True)


def annealed_temperature(epoch: int, initial: float, decay: float) -> float:
  """``initial * exp(-decay * epoch)`` (FBNet: 5.0, 0.045 per epoch)."""
  return initial * math.exp(-decay * epoch)
