"""Architecture decisions: logits and their Gumbel-softmax weights."""

from __future__ import annotations

import keras
from keras import ops

SOFT = "soft"          # g = softmax((alpha + gumbel noise) / tau)
HARD = "hard"          # one-hot of the soft sample, straight-through gradient
ARGMAX = "argmax"      # one-hot of argmax(alpha), deterministic, no noise
MODES = (SOFT, HARD, ARGMAX)

# FBNet (arXiv 1812.03443, section 3.3): tau starts at 5.0.
INITIAL_TEMPERATURE = 5.0


def gumbel_noise(shape, seed_generator):
  """``-log(-log(u))``, ``u ~ U(0, 1)``, clipped away from 0 and 1."""
  u = keras.random.uniform(shape, minval=1e-6, maxval=1.0 - 1e-6,
                           seed=seed_generator)
  return -ops.log(-ops.log(u))


@keras.saving.register_keras_serializable(package="fbnetv2_tf")
class ArchDecision(keras.layers.Layer):
  """One open decision: ``num_options`` logits and a temperature.

  Calling it returns the option weights ``g`` (shape ``[num_options]``). The
  logits start uniform (zeros); the temperature is a non-trainable variable
  so a callback can anneal it without retracing the training step.

  Args:
    num_options: number of options (>= 2).
    mode: ``"soft"``, ``"hard"`` (straight-through) or ``"argmax"``.
    seed: seed of the Gumbel noise, for reproducible searches.
  """

  def __init__(self, num_options, mode=SOFT, seed=None, **kwargs):
    super().__init__(**kwargs)
    if num_options < 2:
      raise ValueError(f"a decision needs >= 2 options, got {num_options}")
    if mode not in MODES:
      raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
    self.num_options = num_options
    self.mode = mode
    self.seed = seed
    self.seed_generator = keras.random.SeedGenerator(seed)
    self.logits = self.add_weight(shape=(num_options,), initializer="zeros",
                                  name="logits", trainable=True)
    self.temperature = self.add_weight(
        shape=(), initializer=keras.initializers.Constant(INITIAL_TEMPERATURE),
        name="temperature", trainable=False)
    # Every variable exists already: built, so Keras never traces a symbolic
    # call to build it (it does so under tf.distribute before fit).
    self.built = True

  def probabilities(self):
    """``softmax(alpha)``: the learned distribution, without noise."""
    return ops.softmax(self.logits)

  def call(self, inputs=None):
    del inputs  # the weights depend on the logits only
    if self.mode == ARGMAX:
      return ops.one_hot(ops.argmax(self.logits), self.num_options)
    noise = gumbel_noise((self.num_options,), self.seed_generator)
    soft = ops.softmax((self.logits + noise) / self.temperature)
    if self.mode == SOFT:
      return soft
    hard = ops.one_hot(ops.argmax(soft), self.num_options)
    return hard + soft - ops.stop_gradient(soft)

  def compute_output_shape(self, input_shape=None):
    return (self.num_options,)

  def get_config(self):
    return {**super().get_config(), "num_options": self.num_options,
            "mode": self.mode, "seed": self.seed}
