"""TensorFlow Datasets: real builders prepared on disk, no download, no mock."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from fbnetv2_tf.data import load_dataset
from tests.testing.data_errors import assert_data_error
from tests.testing.paths import REPO_ROOT

import tensorflow_datasets as tfds  # pinned in setup.py

NAMES = ("circle", "square", "star")
SHAPE = (12, 12, 3)


def _examples(split: str, count: int, shapes=(SHAPE,)):
  """Deterministic random images; labels and shapes cycle."""
  rng = np.random.default_rng(len(split) * 1000 + count)
  return [(f"{split}{i}", {
      "image": rng.integers(0, 256, shapes[i % len(shapes)], np.uint8),
      "label": i % len(NAMES)}) for i in range(count)]


class _TinyBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """Three classes of random RGB images; SPLITS maps split -> size."""

  VERSION = tfds.core.Version("1.0.0")
  SPLITS: dict[str, int] = {}
  SHAPES = (SHAPE,)
  FEATURE_SHAPE = SHAPE

  def _info(self):
    return tfds.core.DatasetInfo(
        builder=self, supervised_keys=("image", "label"),
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=self.FEATURE_SHAPE),
            "label": tfds.features.ClassLabel(names=NAMES)}))

  def _split_generators(self, dl_manager):
    del dl_manager  # everything is generated
    return {split: self._generate_examples(split, count)
            for split, count in self.SPLITS.items()}

  def _generate_examples(self, split, count):
    yield from _examples(split, count, self.SHAPES)


class FbnetTinyTest(_TinyBuilder):
  SPLITS = {"train": 20, "test": 6, "validation": 4}


class FbnetTinyValidation(_TinyBuilder):
  SPLITS = {"train": 20, "validation": 4}


class FbnetTinyTrainOnly(_TinyBuilder):
  SPLITS = {"train": 30}


class FbnetTinyMixedSizes(_TinyBuilder):
  SPLITS = {"train": 6, "test": 3}
  SHAPES = (SHAPE, (10, 14, 3), (12, 12, 3))
  FEATURE_SHAPE = (None, None, 3)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  root = tmp_path_factory.mktemp("tfds")
  for builder in (FbnetTinyTest, FbnetTinyValidation, FbnetTinyTrainOnly,
                  FbnetTinyMixedSizes):
    builder(data_dir=str(root)).download_and_prepare()
  return str(root)


def _by_image(images, labels):
  return {bytes(x): int(y) for x, y in zip(images, labels)}


def _expected(split, count):
  return {bytes(ex["image"]): ex["label"] for _, ex in _examples(split, count)}


def test_train_and_test_splits_load_with_their_values(data_dir):
  data = load_dataset("tfds:fbnet_tiny_test", data_dir=data_dir)
  assert data.name == "tfds:fbnet_tiny_test" and data.flip
  assert data.image_shape == SHAPE and data.train_images.dtype == np.uint8
  assert data.train_labels.dtype == np.int32
  assert data.num_classes == 3 and data.class_names == NAMES
  assert (_by_image(data.train_images, data.train_labels)
          == _expected("train", 20))
  assert _by_image(data.test_images, data.test_labels) == _expected("test", 6)
  again = load_dataset("tfds:fbnet_tiny_test", data_dir=data_dir)
  np.testing.assert_array_equal(again.train_images, data.train_images)


def test_validation_stands_in_for_a_missing_test_split(data_dir):
  data = load_dataset("tfds:fbnet_tiny_validation", data_dir=data_dir,
                      image_size=8)
  assert data.test_images.shape == (4, 8, 8, 3)
  assert sorted(data.test_labels) == [0, 0, 1, 2]


def test_train_only_datasets_hold_out_a_stratified_fifth(data_dir):
  data = load_dataset("tfds:fbnet_tiny_train_only", data_dir=data_dir)
  assert np.all(np.bincount(data.test_labels) == 2)
  assert np.all(np.bincount(data.train_labels) == 8)
  merged = _by_image(np.concatenate([data.train_images, data.test_images]),
                     np.concatenate([data.train_labels, data.test_labels]))
  assert merged == _expected("train", 30)


def test_images_of_several_sizes_need_and_get_resizing(data_dir):
  assert_data_error(load_dataset, "tfds:fbnet_tiny_mixed_sizes", data_dir,
                    fragments=["images differ in size", "pass image_size"])
  data = load_dataset("tfds:fbnet_tiny_mixed_sizes", data_dir, image_size=8)
  assert data.train_images.shape == (6, 8, 8, 3)
  assert data.test_images.shape == (3, 8, 8, 3)
  assert sorted(data.train_labels) == [0, 0, 1, 1, 2, 2]
  # Each test image (one per label) is its source, resized bilinearly with
  # antialiasing.
  sources = {ex["label"]: ex["image"] for _, ex in _examples(
      "test", 3, FbnetTinyMixedSizes.SHAPES)}
  for image, label in zip(data.test_images, data.test_labels):
    expected = tf.image.resize(sources[label], (8, 8), antialias=True)
    np.testing.assert_allclose(image, expected.numpy(), atol=0.5 + 1e-4)


def test_a_prepared_dataset_loads_without_its_builder_code(data_dir):
  """Another process knows no FbnetTinyTest class: TFDS reads the files."""
  code = ("from fbnetv2_tf.data import load_dataset; d = load_dataset("
          f"'tfds:fbnet_tiny_test', data_dir={data_dir!r}); "
          "print(d.train_images.shape, d.class_names, d.test_labels.sum())")
  out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT,
                       capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}).stdout
  assert out.strip() == "(20, 12, 12, 3) ('circle', 'square', 'star') 6"


def test_unknown_tfds_names_are_one_line_errors(data_dir):
  assert_data_error(load_dataset, "tfds:no_such_dataset_here", data_dir,
                    fragments=["tfds:no_such_dataset_here",
                               "TensorFlow Datasets has no dataset"])


def test_missing_tensorflow_datasets_says_what_to_install(monkeypatch):
  monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)
  assert_data_error(load_dataset, "tfds:mnist",
                    fragments=["pip install 'tensorflow-datasets~=4.9.10'"])


def _flat(dataset):
  return [[t.numpy() for t in tf.nest.flatten(e)] for e in dataset]


def test_a_streamed_split_reads_the_same_images_in_a_seeded_order(data_dir):
  from fbnetv2_tf import data as data_lib  # pylint: disable=import-outside-toplevel
  memory = load_dataset("tfds:fbnet_tiny_test", data_dir, image_size=12)
  streamed = load_dataset("tfds:fbnet_tiny_test", data_dir, image_size=12,
                          pipeline="stream")
  assert streamed.streamed and streamed.image_shape == SHAPE
  np.testing.assert_array_equal(streamed.train_labels, memory.train_labels)
  # In order for evaluation: the test split's images, decoded.
  (x, y), = _flat(data_lib.eval_dataset(streamed.test_images,
                                        streamed.test_labels, 6))
  np.testing.assert_array_equal(x, data_lib.normalize(memory.test_images))
  np.testing.assert_array_equal(y, memory.test_labels)
  weight, arch = data_lib.split_for_search(streamed, seed=0)
  whole, steps = data_lib.search_dataset(weight, arch, 4, 0, epochs=2)
  resumed, _ = data_lib.search_dataset(weight, arch, 4, 0, epochs=2,
                                       first_epoch=1)
  whole, resumed = _flat(whole), _flat(resumed)
  assert len(whole) == 2 * steps == 2 * (16 // 4)
  for a, b in zip(whole[steps:], resumed):
    for u, v in zip(a, b):
      np.testing.assert_array_equal(u, v)
  # Unaugmented weight batches are the weight split's images, each with its
  # label, in a shuffled order.
  plain = _flat(data_lib.search_dataset(weight, arch, 4, 0, epochs=1,
                                        augment=False)[0])
  label_of = _by_image(data_lib.normalize(memory.train_images),
                       memory.train_labels)
  seen = [(bytes(x), int(y)) for xw, _, yw, _ in plain
          for x, y in zip(xw, yw)]
  assert all(label_of[x] == y for x, y in seen)
  assert len(set(x for x, _ in seen)) == 16


def test_streaming_needs_the_size_it_resizes_to(data_dir):
  assert_data_error(load_dataset, "tfds:fbnet_tiny_test", data_dir,
                    pipeline="stream", fragments=["give image_size"])
