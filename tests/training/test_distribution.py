"""Losses scale across replicas: two CPU replicas update like one device."""

import json
import subprocess
import sys

import pytest

from tests.testing.paths import REPO_ROOT

# Logical devices can only be configured before TensorFlow starts, hence a
# subprocess. Each replica gets half of the global batch; both halves are
# the same images, so BatchNorm's batch statistics per replica equal the
# global ones and only the loss scaling can make the updates differ.
SCRIPT = r"""
import json, sys
import numpy as np, keras, tensorflow as tf
sys.path.insert(0, ".")
from fbnetv2_tf.search.search_model import Supernet
from fbnetv2_tf.cost.losses import ResourceLoss
from fbnetv2_tf.search.config import SearchConfig
from fbnetv2_tf.training import run_setup
from fbnetv2_tf.training.strategy import make_strategy
from tests.testing.models import MICRO_SPACE
# What --strategy=mirrored --cpu_replicas=2 gives the binaries.
mirrored = run_setup.strategy("mirrored", 2)
rng = np.random.default_rng(0)
half = rng.normal(0, 1, (8, 16, 16, 1)).astype("float32")
labels = (np.arange(8) % 4).astype("int32")
x, y = np.concatenate([half, half]), np.concatenate([labels, labels])
ds = tf.data.Dataset.from_tensors(((x, x[::-1]), (y, y[::-1]))).repeat()

def one_step(strategy):
  keras.utils.set_random_seed(0)
  with strategy.scope():
    # argmax decisions: per-example Gumbel noise would differ between one
    # batch of 16 and two of 8; the budget term still moves the logits.
    net = Supernet(MICRO_SPACE, num_classes=4, input_channels=1, seed=0,
                   mode="argmax")
    net.compile(keras.optimizers.SGD(0.5),
                search_config=SearchConfig(
                    loss=ResourceLoss("budget", target=0.01)),
                arch_optimizer=keras.optimizers.SGD(50.0))
  net.fit(ds, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)
  return ([np.array(v) for v in net.weight_variables],
          [np.array(v) for v in net.arch_variables],
          strategy.num_replicas_in_sync)

w1, a1, n1 = one_step(make_strategy("default"))
w2, a2, n2 = one_step(mirrored)
moved = max(float(np.max(np.abs(a))) for a in a1)
print(json.dumps({
    "replicas": [n1, n2], "logit_move": moved,
    "weight_diff": max(float(np.max(np.abs(a - b))) for a, b in zip(w1, w2)),
    "weight_scale": max(float(np.max(np.abs(a))) for a in w1),
    "logit_diff": max(float(np.max(np.abs(a - b))) for a, b in zip(a1, a2))}))
"""


@pytest.mark.slow
def test_two_cpu_replicas_give_the_same_update_as_one_device():
  out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO_ROOT,
                       capture_output=True, text=True, timeout=600, check=False)
  assert out.returncode == 0, out.stderr[-3000:]
  r = json.loads(out.stdout.strip().splitlines()[-1])
  assert r["replicas"] == [1, 2]
  assert r["logit_move"] > 1e-3  # the architecture step did move the logits
  # A replica-count error would halve or double the update.
  assert r["weight_diff"] <= 1e-4 * max(1.0, r["weight_scale"])
  assert r["logit_diff"] <= 1e-3 * r["logit_move"]
