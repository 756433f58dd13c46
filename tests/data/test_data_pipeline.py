"""Search and training pipelines: splits, batch structure, per-epoch
determinism (the resume property), augmentation, evaluation batches."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from fbnetv2_tf.data import (DataError, ImageData, eval_dataset, normalize,
                             search_dataset, split_for_search, train_dataset)
from tests.testing.data_errors import assert_data_error

BATCH = 16


def synthetic(n=203, shape=(8, 8, 1), seed=0) -> ImageData:
  """Random (so distinct) images; class sizes 3:2:2:1 to test stratifying."""
  rng = np.random.default_rng(seed)
  labels = rng.choice([0, 0, 0, 1, 1, 2, 2, 3], n).astype(np.int32)
  images = rng.integers(0, 256, (n, *shape), np.uint8)
  return ImageData("synthetic", images, labels, images[:10], labels[:10], 4)


@pytest.fixture(scope="module")
def data():
  return synthetic()


@pytest.fixture(scope="module")
def splits(data):
  return split_for_search(data, seed=1)


def to_uint8(x) -> np.ndarray:
  return np.round((np.asarray(x) + 1.0) * 127.5).astype(np.uint8)


def rows(images) -> list[bytes]:
  return [bytes(x) for x in np.asarray(images)]


def epochs_of(dataset, steps):
  """The dataset's batches as numpy, grouped into epochs."""
  batches = [tf.nest.map_structure(np.asarray, b) for b in dataset]
  assert len(batches) % steps == 0
  return [batches[i:i + steps] for i in range(0, len(batches), steps)]


def test_split_for_search_is_a_stratified_seeded_partition(data, splits):
  (wx, wy), (ax, ay) = splits
  assert len(wy) == round(0.8 * 203) and len(wy) + len(ay) == 203
  assert sorted(rows(wx) + rows(ax)) == sorted(rows(data.train_images))
  assert not set(rows(wx)) & set(rows(ax))
  label_of = dict(zip(rows(data.train_images), data.train_labels))
  assert [label_of[r] for r in rows(wx)] == list(wy)
  counts = np.bincount(data.train_labels)
  assert np.all(np.abs(np.bincount(wy) - 0.8 * counts) < 1)
  (same, _), _ = split_for_search(data, seed=1)
  np.testing.assert_array_equal(same, wx)
  (other, _), _ = split_for_search(data, seed=2)
  assert set(rows(other)) != set(rows(wx))


def test_search_batches_have_the_documented_structure(splits):
  (wx, _), _ = splits
  dataset, steps = search_dataset(*splits, BATCH, seed=0, epochs=2)
  assert steps == len(wx) // BATCH == 10
  spec = dataset.element_spec
  # A static batch size: every batch is full, so one trace serves all steps.
  assert spec[0][0].shape.as_list() == [BATCH, 8, 8, 1]
  assert [s.dtype for s in tf.nest.flatten(spec)] == [
      tf.float32, tf.float32, tf.int32, tf.int32]
  (x_w, x_a), (y_w, y_a) = next(iter(dataset))
  assert x_w.shape == x_a.shape == (BATCH, 8, 8, 1)
  assert y_w.shape == y_a.shape == (BATCH,)
  assert sum(1 for _ in dataset) == 2 * steps


def test_resumed_epochs_repeat_the_uninterrupted_batches(splits):
  full = epochs_of(*search_dataset(*splits, BATCH, seed=5, epochs=3, flip=True))
  resumed = epochs_of(*search_dataset(*splits, BATCH, seed=5, epochs=3,
                                      first_epoch=2, flip=True))
  assert len(full) == 3 and len(resumed) == 1
  for a, b in zip(full[2], resumed[0]):
    tf.nest.map_structure(np.testing.assert_array_equal, a, b)
  first, second = ([b[1][0] for b in epoch] for epoch in full[:2])
  assert not np.array_equal(first, second)  # a fresh order each epoch
  other_seed = epochs_of(*search_dataset(*splits, BATCH, seed=6, epochs=1))
  assert not np.array_equal(other_seed[0][0][1][0], full[0][0][1][0])


def test_unaugmented_batches_are_normalized_source_images(splits):
  (wx, wy), (ax, ay) = splits
  dataset, steps = search_dataset(*splits, BATCH, seed=0, epochs=2,
                                  augment=False)
  weight = dict(zip(rows(normalize(wx)), wy))
  arch = dict(zip(rows(normalize(ax)), ay))
  for epoch in epochs_of(dataset, steps):
    seen = []
    for (x_w, x_a), (y_w, y_a) in epoch:
      assert [weight[r] for r in rows(x_w)] == list(y_w)
      assert [arch[r] for r in rows(x_a)] == list(y_a)
      seen += rows(x_w)
    # An epoch visits distinct weight images: a permutation, remainder cut.
    assert len(set(seen)) == steps * BATCH


def test_architecture_batches_come_from_the_arch_split_only(splits):
  _, (ax, ay) = splits
  dataset, steps = search_dataset(*splits, BATCH, seed=0, epochs=1, flip=True)
  arch = set(rows(normalize(ax)))
  x_a = np.concatenate([b[0][1] for b in epochs_of(dataset, steps)[0]])
  assert set(rows(x_a)) <= arch
  # 160 arch images drawn from 41: every one at least three times.
  assert len(set(rows(x_a))) == len(ay) == 41


def _translations(image: np.ndarray, pad: int):
  """Every reflect-padded shift of image by up to pad pixels, and mirrors."""
  padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
  h, w = image.shape[:2]
  for dy, dx in itertools.product(range(2 * pad + 1), repeat=2):
    crop = padded[dy:dy + h, dx:dx + w]
    yield (dy, dx, False), crop
    yield (dy, dx, True), crop[:, ::-1]


@pytest.mark.parametrize("flip", [False, True])
def test_augmentation_translates_and_mirrors_only_when_asked(flip):
  source = synthetic(n=16, seed=3)
  dataset, steps = train_dataset(source.train_images, source.train_labels,
                                 BATCH, seed=0, epochs=4, flip=flip)
  assert steps == 1
  moves = {bytes(crop): (i, move) for i, x in enumerate(source.train_images)
           for move, crop in _translations(x, pad=1)}
  seen = []
  for x, y in dataset:
    assert np.all(np.abs(x) <= 1.0)
    for image, label in zip(to_uint8(x), y.numpy()):
      i, move = moves[bytes(image)]  # a KeyError would mean no such move
      assert source.train_labels[i] == label
      seen.append(move)
  assert len({m[:2] for m in seen}) > 4  # various shifts
  assert any(m[2] for m in seen) == flip


def test_train_dataset_is_deterministic_per_epoch(data):
  args = (data.train_images, data.train_labels, BATCH)
  full = epochs_of(*train_dataset(*args, seed=2, epochs=2))
  resumed = epochs_of(*train_dataset(*args, seed=2, epochs=2, first_epoch=1))
  for a, b in zip(full[1], resumed[0]):
    tf.nest.map_structure(np.testing.assert_array_equal, a, b)
  x, y = full[0][0]
  assert x.shape == (BATCH, 8, 8, 1) and y.dtype == np.int32


def test_eval_dataset_keeps_order_and_remainder(data):
  images, labels = data.train_images[:10], data.train_labels[:10]
  batches = list(eval_dataset(images, labels, 4))
  assert [len(y) for _, y in batches] == [4, 4, 2]
  x = np.concatenate([b[0] for b in batches])
  np.testing.assert_array_equal(x, normalize(images))
  np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), labels)


def test_normalize_maps_pixels_to_minus_one_one_alike_in_numpy_and_tf():
  pixels = np.arange(256, dtype=np.uint8)
  as_numpy = normalize(pixels)
  assert as_numpy.dtype == np.float32
  assert (as_numpy[0], as_numpy[-1]) == (-1.0, 1.0)
  np.testing.assert_array_equal(normalize(tf.constant(pixels)).numpy(),
                                as_numpy)
  np.testing.assert_array_equal(to_uint8(as_numpy), pixels)


def test_pipeline_errors(data, splits):
  assert_data_error(search_dataset, *splits, 1000, seed=0, epochs=1,
                    fragments=["batch size 1000", "162 images"])
  assert_data_error(eval_dataset, data.test_images, data.test_labels, 0,
                    fragments=["batch size must be a positive integer"])
  assert_data_error(split_for_search, synthetic(n=2), seed=0,
                    fragments=["synthetic: 2 train images are too few"])
  with pytest.raises(ValueError, match="first_epoch <= epochs"):
    train_dataset(data.train_images, data.train_labels, 8, 0, epochs=1,
                  first_epoch=2)
  assert issubclass(DataError, Exception)
