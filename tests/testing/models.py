"""Model helpers: realistic random weights and small architectures."""

import keras
import numpy as np

from fbnetv2_tf.specs import parse_arch_string

# A small arch with every block kind, including a g2 block with an expand conv
# (so ChannelShuffle runs) and an SE block with h-swish.
TINY_ARCH = parse_arch_string(
    "tiny@32/4: conv_k3_hs-c16-s2 | ir_k3_g2-c16-e3-p2, ir_k5_sehsig_hs-c24-s2-e4"
    " | skip-c24, skip-c32-s2, ir_k3-c32-e6-r2 | ir_pool_hs-c64-e6")


def randomize_batchnorm(model: keras.Model, seed: int = 0) -> None:
  """Gives every BN layer random statistics and affine parameters.

  A freshly initialised network shrinks activations towards zero (logits of
  order 1e-2), which would make any numerics comparison pass trivially; this
  keeps activations of order one so differences show.
  """
  rng = np.random.default_rng(seed)
  for layer in model._flatten_layers():  # pylint: disable=protected-access
    if isinstance(layer, keras.layers.BatchNormalization):
      n = layer.gamma.shape[0]
      layer.gamma.assign(rng.uniform(0.5, 1.5, n).astype("float32"))
      layer.beta.assign(rng.normal(0.0, 0.2, n).astype("float32"))
      layer.moving_mean.assign(rng.normal(0.0, 0.2, n).astype("float32"))
      layer.moving_variance.assign(rng.uniform(0.5, 2.0, n).astype("float32"))


def random_images(shape, seed: int = 0) -> np.ndarray:
  return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


# Two searched blocks and two resolutions: every kind of decision, quick to
# trace.
MICRO_SPACE = {
    "name": "micro", "input_sizes": [16, 8], "width_divisor": 4,
    "stages": [[{"ops": ["conv_k3"], "out": [8], "stride": 2}],
               [{"ops": ["ir_k3", "ir_k5"], "out": [8, 16], "stride": 1,
                 "expansions": [1, 3], "width_group": "a"},
                {"ops": ["ir_k3", "skip"], "out": [8, 16], "stride": 1,
                 "expansions": [1, 3], "width_group": "a"}]]}
