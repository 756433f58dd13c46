"""Model helpers: realistic random weights and small architectures."""

import numpy as np

from fbnetv2_tf.export.parity import randomize_batch_norm as randomize_batchnorm  # noqa: F401
from fbnetv2_tf.specs import parse_arch_string

# A small arch with every block kind, including a g2 block with an expand conv
# (so ChannelShuffle runs) and an SE block with h-swish.
TINY_ARCH = parse_arch_string(
    "tiny@32/4: conv_k3_hs-c16-s2 | ir_k3_g2-c16-e3-p2, ir_k5_sehsig_hs-c24-s2-e4"
    " | skip-c24, skip-c32-s2, ir_k3-c32-e6-r2 | ir_pool_hs-c64-e6")


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
