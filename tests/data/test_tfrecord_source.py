"""TFRecord shards: labels read first, images decoded as they are read."""

import numpy as np
import pytest
import tensorflow as tf

from fbnetv2_tf import data as data_lib
from tests.testing.data_errors import assert_data_error


def _example(image, label, keys):
  encoded = tf.io.encode_png(image).numpy()
  return tf.train.Example(features=tf.train.Features(feature={
      keys[0]: tf.train.Feature(bytes_list=tf.train.BytesList(
          value=[encoded])),
      keys[1]: tf.train.Feature(int64_list=tf.train.Int64List(
          value=[label]))})).SerializeToString()


def write_shards(root, counts, keys=("image/encoded", "image/class/label"),
                 channels=3, seed=0):
  """Shards named as given; label i % 3 per record. Returns the images of
  every record in order, per shard name."""
  rng = np.random.default_rng(seed)
  written = {}
  for name, count in counts.items():
    images = rng.integers(0, 256, (count, 10, 10, channels), np.uint8)
    with tf.io.TFRecordWriter(str(root / name)) as writer:
      for i, image in enumerate(images):
        writer.write(_example(image, i % 3, keys))
    written[name] = images
  return written


@pytest.mark.parametrize("keys", [("image/encoded", "image/class/label"),
                                  ("image", "label")])
def test_train_and_validation_shards_load_in_memory_and_streamed(tmp_path,
                                                                 keys):
  written = write_shards(tmp_path, {"train-00000-of-00002": 12,
                                    "train-00001-of-00002": 9,
                                    "validation-00000-of-00001": 6}, keys)
  memory = data_lib.load_dataset("tfrecord", str(tmp_path), image_size=10,
                                 pipeline="memory")
  streamed = data_lib.load_dataset("tfrecord", str(tmp_path), image_size=10,
                                   pipeline="stream")
  assert not memory.streamed and streamed.streamed
  np.testing.assert_array_equal(
      memory.train_images, np.concatenate([written["train-00000-of-00002"],
                                           written["train-00001-of-00002"]]))
  np.testing.assert_array_equal(memory.test_images,
                                written["validation-00000-of-00001"])
  expected_labels = np.concatenate([np.arange(12) % 3, np.arange(9) % 3])
  np.testing.assert_array_equal(memory.train_labels, expected_labels)
  np.testing.assert_array_equal(streamed.train_labels, expected_labels)
  assert streamed.num_classes == 3 and streamed.image_shape == (10, 10, 3)
  np.testing.assert_array_equal(data_lib.normalize(streamed.train_images),
                                data_lib.normalize(memory.train_images))


def test_streamed_records_repeat_and_resume_by_seed_and_epoch(tmp_path):
  write_shards(tmp_path, {"train.tfrecord": 40}, channels=1)
  data = data_lib.load_dataset("tfrecord", str(tmp_path), image_size=10,
                               pipeline="stream")
  assert data.image_shape == (10, 10, 1)
  assert len(data.train_labels) == 32 and len(data.test_labels) == 8
  weight, arch = data_lib.split_for_search(data, seed=1)

  def run(first_epoch):
    dataset, steps = data_lib.search_dataset(weight, arch, 5, 1, epochs=3,
                                             first_epoch=first_epoch)
    return [[t.numpy() for t in tf.nest.flatten(e)] for e in dataset], steps

  whole, steps = run(0)
  again, _ = run(0)
  resumed, _ = run(2)
  assert steps == 25 // 5 and len(whole) == 3 * steps
  for a, b in zip(whole, again):
    for u, v in zip(a, b):
      np.testing.assert_array_equal(u, v)
  for a, b in zip(whole[2 * steps:], resumed):
    for u, v in zip(a, b):
      np.testing.assert_array_equal(u, v)
  # Another epoch, another order.
  assert not np.array_equal(whole[0][2], whole[steps][2])


def test_record_lists_select_in_order_only(tmp_path):
  write_shards(tmp_path, {"train.tfrecord": 10, "test.tfrecord": 3})
  data = data_lib.load_dataset("tfrecord", str(tmp_path), image_size=10,
                               pipeline="stream")
  assert len(data.train_images[np.array([1, 4, 7])]) == 3
  with pytest.raises(ValueError, match="increasing"):
    data.train_images[np.array([4, 1])]  # pylint: disable=pointless-statement


def test_missing_shards_and_features_are_one_line_errors(tmp_path):
  assert_data_error(data_lib.load_dataset, "tfrecord", str(tmp_path),
                    image_size=10, fragments=["no train* shards"])
  assert_data_error(data_lib.load_dataset, "tfrecord", image_size=10,
                    fragments=["needs data_dir"])
  write_shards(tmp_path, {"train.tfrecord": 3}, keys=("png", "class"))
  assert_data_error(data_lib.load_dataset, "tfrecord", str(tmp_path),
                    image_size=10, fragments=["image/encoded", "class, png"])
  assert_data_error(data_lib.load_dataset, "tfrecord", str(tmp_path),
                    fragments=["give image_size"])
