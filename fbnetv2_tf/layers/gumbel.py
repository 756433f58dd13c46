"""Architecture decisions: logits and their Gumbel-softmax weights."""

from __future__ import annotations

import keras
from keras import ops

SOFT = "soft"          # g = softmax((alpha + gumbel noise) / tau)
HARD = "hard"          # one-hot of the soft sample, straight-through gradient
ARGMAX = "argmax"      # one-hot of argmax(alpha), deterministic, no noise
MODES = (SOFT, HARD, ARGMAX)

# FBNet (arXiv 1812.03443, section 4.1): tau starts at 5.0; the search's
# schedule (``search.schedules``) sets it every epoch.
INITIAL_TEMPERATURE = 5.0


def gumbel_noise(shape, seed_generator):
  """``-log(-log(u))``, ``u ~ U(0, 1)``, clipped away from 0 and 1."""
  u = keras.random.uniform(shape, minval=1e-6, maxval=1.0 - 1e-6,
                           seed=seed_generator)
  return -ops.log(-ops.log(u))


@keras.saving.register_keras_serializable(package="fbnetv2_tf")
class ArchDecision(keras.layers.Layer):
  """One open decision: ``num_options`` logits and a temperature.

  Calling it returns the option weights ``g``: shape ``[num_options]``, or
  ``[batch_size, num_options]`` with an independent Gumbel sample per example
  when ``batch_size`` is given (each example then trains its own blend or
  child: far more architecture signal per step at almost no cost, since the
  weights only scale ``[batch, 1, 1, C]`` masks). The logits start uniform
  (zeros); the temperature is a non-trainable variable so a schedule can
  anneal it without retracing the training step.

  Args:
    num_options: number of options (>= 2).
    mode: ``"soft"``, ``"hard"`` (straight-through) or ``"argmax"``.
    seed: seed of the Gumbel noise, for reproducible searches.
  """

  def __init__(self, num_options, mode=SOFT, seed=None, **kwargs):
    # Float32 under any mixed-precision policy: the Gumbel sample, the
    # softmax and the expected cost built from them keep float32 precision
    # (in bfloat16 a probability above 0.5 moves in steps of 1/256). The
    # blocks cast the weights to their compute dtype where they meet.
    kwargs.setdefault("dtype", "float32")
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

  def call(self, inputs=None, batch_size=None):
    del inputs  # the weights depend on the logits only
    shape = ((self.num_options,) if batch_size is None
             else (batch_size, self.num_options))
    if self.mode == ARGMAX:
      return ops.broadcast_to(
          ops.one_hot(ops.argmax(self.logits), self.num_options), shape)
    noise = gumbel_noise(shape, self.seed_generator)
    soft = ops.softmax((self.logits + noise) / self.temperature, axis=-1)
    if self.mode == SOFT:
      return soft
    hard = ops.one_hot(ops.argmax(soft, axis=-1), self.num_options)
    return hard + (soft - ops.stop_gradient(soft))  # exactly one-hot forward

  def uniform_one_hot(self, batch_size):
    """``[batch_size, num_options]`` one-hot options drawn uniformly at
    random (the argmax of pure Gumbel noise), from this decision's seed
    generator: one-hot children of the whole space for the weight step
    (``search.weight_sampling``)."""
    noise = gumbel_noise((batch_size, self.num_options), self.seed_generator)
    return ops.one_hot(ops.argmax(noise, axis=-1), self.num_options)

  def compute_output_shape(self, input_shape=None):
    return (self.num_options,)

  def get_config(self):
    return {**super().get_config(), "num_options": self.num_options,
            "mode": self.mode, "seed": self.seed}
