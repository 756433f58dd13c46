"""Streamed image folders: the files stay on disk, the batches are those of
memory, fixed by the seed and the epoch."""

import numpy as np
import pytest
from PIL import Image

from fbnetv2_tf import data as data_lib
from fbnetv2_tf.data import image_folder, pipeline
from fbnetv2_tf.data.file_list import FileList
from tests.testing.data_errors import assert_data_error


def write_folder(root, per_class: int, size: int, seed: int = 0,
                 suffix: str = "png", grey: bool = False):
  rng = np.random.default_rng(seed)
  shape = (size, size) if grey else (size, size, 3)
  for split, count in (("train", per_class), ("test", max(1, per_class // 4))):
    for name in ("a", "b", "c"):
      (root / split / name).mkdir(parents=True)
      for i in range(count):
        # Smooth images, so that JPEG keeps them close to what was written.
        base = rng.integers(0, 256, (4, 4) + shape[2:], np.uint8)
        image = Image.fromarray(base.squeeze()).resize((size, size))
        image.save(root / split / name / f"{i:03d}.{suffix}")
  return str(root)


def load(root, pipeline_name, size, **kwargs):
  return data_lib.load_dataset("image_folder", root, image_size=size,
                               pipeline=pipeline_name, **kwargs)


def batches(dataset):
  """Every element's tensors, flattened, as numpy."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  return [[t.numpy() for t in tf.nest.flatten(element)]
          for element in dataset]


def test_streamed_batches_are_the_in_memory_batches_at_the_files_size(
    tmp_path):
  root = write_folder(tmp_path, 20, 16)
  memory, streamed = (load(root, p, 16) for p in ("memory", "stream"))
  assert streamed.streamed and not memory.streamed
  assert isinstance(streamed.train_images, FileList)
  assert streamed.image_shape == memory.image_shape == (16, 16, 3)
  np.testing.assert_array_equal(streamed.train_labels, memory.train_labels)
  runs = []
  for data in (memory, streamed):
    weight, arch = data_lib.split_for_search(data, seed=3)
    whole, steps = data_lib.search_dataset(weight, arch, 8, 3, epochs=2,
                                           flip=True)
    resumed, _ = data_lib.search_dataset(weight, arch, 8, 3, epochs=2,
                                         first_epoch=1, flip=True)
    runs.append((batches(whole), batches(resumed), steps))
  (m_whole, m_resumed, m_steps), (s_whole, s_resumed, s_steps) = runs
  assert m_steps == s_steps == 48 // 8
  for a, b in zip(m_whole + m_resumed, s_whole + s_resumed):
    for u, v in zip(a, b):
      np.testing.assert_array_equal(u, v)
  # Resuming at epoch 1 gives the uninterrupted run's second epoch.
  for a, b in zip(s_whole[s_steps:], s_resumed):
    for u, v in zip(a, b):
      np.testing.assert_array_equal(u, v)
  # Augmented: the same image differs between epochs.
  assert not np.array_equal(s_whole[0][0], s_whole[s_steps][0])
  test_m = batches(data_lib.eval_dataset(memory.test_images,
                                         memory.test_labels, 4))
  test_s = batches(data_lib.eval_dataset(streamed.test_images,
                                         streamed.test_labels, 4))
  for a, b in zip(test_m, test_s):
    for u, v in zip(a, b):
      np.testing.assert_array_equal(u, v)


def test_photos_get_a_random_resized_crop_fixed_by_seed_and_epoch(tmp_path):
  size = pipeline.CROP_MIN_SIZE
  root = write_folder(tmp_path, 8, 80, suffix="jpg", grey=True)
  data = load(root, "stream", size)
  assert data.image_shape == (size, size, 1)  # every file grey
  weight, arch = data_lib.split_for_search(data, seed=0)
  first = batches(data_lib.train_dataset(*weight, 4, 0, 2)[0])
  again = batches(data_lib.train_dataset(*weight, 4, 0, 2)[0])
  plain = batches(data_lib.train_dataset(*weight, 4, 0, 2, augment=False)[0])
  for a, b in zip(first, again):
    np.testing.assert_array_equal(a[0], b[0])
  x, y = first[0]
  assert x.shape == (4, size, size, 1) and x.dtype == np.float32
  assert -1 <= x.min() and x.max() <= 1
  # The crop changes the picture (the plain batch is the whole image).
  assert np.abs(x - plain[0][0]).mean() > 0.02
  np.testing.assert_array_equal(y, plain[0][1])
  # A step limit takes another part of the split each epoch.
  limited, steps = data_lib.train_dataset(*weight, 4, 0, 2, max_steps=1)
  assert steps == 1 and len(batches(limited)) == 2


def test_auto_streams_only_above_the_decoded_size(tmp_path, monkeypatch):
  root = write_folder(tmp_path, 4, 8)
  assert not load(root, "auto", 8).streamed
  monkeypatch.setattr(image_folder, "STREAM_ABOVE_BYTES", 12 * 8 * 8 * 3)
  assert load(root, "auto", 8).streamed
  assert not load(root, "auto", None).streamed  # sizes unknown: memory


def test_streaming_needs_a_size_and_a_streamable_source(tmp_path):
  root = write_folder(tmp_path, 4, 8)
  assert_data_error(load, root, "stream", None, fragments=["image_size"])
  assert_data_error(data_lib.load_dataset, "digits", pipeline="stream",
                    fragments=["digits is read into memory", "image_folder"])
  assert_data_error(data_lib.load_dataset, "image_folder", root,
                    pipeline="disk", fragments=["auto, memory, stream"])
  assert_data_error(load, root, "stream", 8, bad_files="ignore",
                    fragments=["fail, skip"])


def test_file_lists_index_like_images_and_decode_where_needed(tmp_path):
  root = write_folder(tmp_path, 8, 12)
  memory, streamed = load(root, "memory", 12), load(root, "stream", 12)
  subset = streamed.subset(max_train=9, seed=1)
  assert len(subset.train_images) == 9 and subset.streamed
  assert subset.train_images.shape == (9, 12, 12, 3)
  assert subset.train_images.decoded_bytes == 9 * 12 * 12 * 3
  np.testing.assert_array_equal(
      data_lib.normalize(subset.train_images),
      data_lib.normalize(memory.subset(max_train=9, seed=1).train_images))


@pytest.mark.parametrize("grey", [True, False])
def test_streamed_channels_follow_the_files(tmp_path, grey):
  root = write_folder(tmp_path, 4, 8, grey=grey)
  assert load(root, "stream", 8).image_shape == (8, 8, 1 if grey else 3)
