"""What the search benchmarks share: random architectures in a budget band,
Fashion-MNIST at any input size, training a child, and a results file that
makes a long benchmark resumable (each finished item is kept; a run started
again skips it)."""

from __future__ import annotations

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from fbnetv2_tf.specs import files  # pylint: disable=wrong-import-position  (after the path above)


def random_archs(space, low, high, count, seed, num_classes=10,
                 input_channels=1):
  """``count`` distinct uniformly random archs whose counted MFLOPs (on
  ``input_channels``-channel images: 1 for Fashion-MNIST) lie in
  ``[low, high]``, as ``(choices, arch)`` pairs."""
  from fbnetv2_tf.cost.counting import count_arch  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search import derive  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  found, seen = [], set()
  for _ in range(200000):
    if len(found) == count:
      return found
    choices = derive.random_choices(space, rng)
    key = tuple(sorted(choices.items()))
    if key in seen:
      continue
    arch = derive.derive_arch(space, choices, f"random{len(found)}")
    if low <= count_arch(arch, num_classes, input_channels).mflops <= high:
      seen.add(key)
      found.append((choices, arch))
  raise RuntimeError(f"found only {len(found)} random archs in the band")


def add_recipe_arguments(parser, search_epochs, warmup_epochs, train_epochs,
                         train_seeds):
  """The search and training recipe every search benchmark takes, with
  that benchmark's defaults: epochs, seeds, batch, one-hot children in the
  weight step, and the Fashion-MNIST folder."""
  parser.add_argument("--search_epochs", type=int, default=search_epochs)
  parser.add_argument("--warmup_epochs", type=int, default=warmup_epochs)
  parser.add_argument("--train_epochs", type=int, default=train_epochs)
  parser.add_argument("--train_seeds", type=int, default=train_seeds)
  parser.add_argument("--batch_size", type=int, default=128)
  parser.add_argument("--child_share", type=float, default=0.0,
                      help="SearchConfig.child_share of the searches")
  parser.add_argument("--child_sampling", default="uniform",
                      choices=("uniform", "sandwich"))
  parser.add_argument("--data_dir", default=None)


class FashionMnist:
  """Fashion-MNIST subsets by input size, loaded once each."""

  def __init__(self, data_dir, train_images, seed):
    self.data_dir, self.train_images, self.seed = data_dir, train_images, seed
    self._by_size = {}

  def at(self, size):
    from fbnetv2_tf import data  # pylint: disable=g-import-not-at-top
    if size not in self._by_size:
      self._by_size[size] = data.load_dataset(
          "fashion_mnist", self.data_dir, image_size=size).subset(
              max_train=self.train_images, seed=self.seed)
    return self._by_size[size]


def train_from_scratch(arch, images, output_dir, epochs, batch_size, seed):
  """Test accuracy of ``arch`` trained from scratch (the child recipe)."""
  import keras  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.training.child import TrainJob, train_child  # pylint: disable=g-import-not-at-top
  keras.backend.clear_session()
  return train_child(arch, images, TrainJob(
      output_dir, epochs=epochs, batch_size=batch_size, seed=seed,
      verbose=0)).test_accuracy


class Results:
  """A JSON dict of finished items, rewritten atomically after each."""

  def __init__(self, path, read_only=False):
    self.path = path
    self.read_only = read_only  # report what is finished, run nothing
    self.items = {}
    if os.path.exists(path):
      with open(path, encoding="utf-8") as f:
        self.items = json.load(f)

  def get_or_run(self, key, fn):
    """The kept result of ``key``, else ``fn()`` kept (None, read-only)."""
    if key not in self.items and self.read_only:
      return None
    if key not in self.items:
      self.items[key] = fn()
      files.write_atomically(self.path, json.dumps(self.items, indent=1))
      print(f"  {key}: {self.items[key]}", file=sys.stderr)
    return self.items[key]


def search_split_data(images, seed):
  """``images`` (an ``ImageData``) with the search's weight split as its
  training set and its architecture split as its test set: the 80/20 split
  ``data.split_for_search(images, seed)`` that a search of that seed uses,
  so a child trained on it never sees the images it is scored on."""
  import dataclasses  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf import data  # pylint: disable=g-import-not-at-top
  (weight_x, weight_y), (arch_x, arch_y) = data.split_for_search(images, seed)
  return dataclasses.replace(images, train_images=weight_x,
                             train_labels=weight_y, test_images=arch_x,
                             test_labels=arch_y)


def timed(fn):
  """``(fn(), seconds it took)``."""
  import time  # pylint: disable=g-import-not-at-top
  start = time.time()
  value = fn()
  return value, time.time() - start


def relative_improvement(accuracy, baseline):
  """Yang et al. (ICLR 2020, "NAS evaluation is frustratingly hard"):
  ``100 * (accuracy - baseline) / baseline``, in percent of the baseline."""
  return 100.0 * (accuracy - baseline) / baseline
