"""Image folders: class folders, given or derived test split, decoding."""

import numpy as np
import pytest
from PIL import Image

from fbnetv2_tf.data import load_dataset
from tests.testing.data_errors import assert_data_error

CLASSES = ("cat", "ant", "bee")  # written unsorted; labels follow sorted names


def write_images(folder, per_class: int, seed: int, shape=(10, 12, 3)):
  """``per_class`` random PNGs per class; returns {sorted label: [arrays]}."""
  rng = np.random.default_rng(seed)
  written = {}
  for name in CLASSES:
    (folder / name).mkdir(parents=True)
    arrays = [rng.integers(0, 256, shape, np.uint8) for _ in range(per_class)]
    for i, array in enumerate(arrays):
      Image.fromarray(array.squeeze()).save(folder / name / f"{i:03d}.png")
    written[sorted(CLASSES).index(name)] = arrays
  return written


def as_label_of(written):
  return {bytes(a): label for label, arrays in written.items() for a in arrays}


def test_train_and_test_folders_keep_their_split_and_pixels(tmp_path):
  train = write_images(tmp_path / "train", 3, seed=0)
  test = write_images(tmp_path / "test", 2, seed=1)
  (tmp_path / "train" / "ant" / "notes.txt").write_text("not an image")
  data = load_dataset("image_folder", str(tmp_path))
  assert data.class_names == ("ant", "bee", "cat") and data.num_classes == 3
  assert data.image_shape == (10, 12, 3) and data.flip
  # Files in sorted order, classes in sorted order: labels 0 0 0 1 1 1 2 2 2.
  np.testing.assert_array_equal(data.train_labels, np.repeat([0, 1, 2], 3))
  np.testing.assert_array_equal(data.train_images[0], train[0][0])
  for images, labels, written in ((data.train_images, data.train_labels, train),
                                  (data.test_images, data.test_labels, test)):
    assert {bytes(x): int(y) for x, y in zip(images, labels)} == as_label_of(
        written)


@pytest.mark.parametrize("under", ["", "train"])
def test_class_folders_alone_get_a_fixed_stratified_split(tmp_path, under):
  written = write_images(tmp_path / under, 10, seed=2, shape=(9, 9, 1))
  (tmp_path / under / ".cache").mkdir()  # hidden: not a class
  Image.fromarray(np.zeros((9, 9), np.uint8)).save(
      tmp_path / under / ".cache" / "thumb.png")
  data = load_dataset("image_folder", str(tmp_path))
  assert data.image_shape == (9, 9, 1)  # all grey: one channel
  assert np.all(np.bincount(data.test_labels) == 2)
  assert np.all(np.bincount(data.train_labels) == 8)
  every = np.concatenate([data.train_images, data.test_images])[..., 0]
  labels = np.concatenate([data.train_labels, data.test_labels])
  got = {bytes(x): int(y) for x, y in zip(every, labels)}
  assert got == as_label_of({k: [a.squeeze() for a in v]
                             for k, v in written.items()})
  again = load_dataset("image_folder", str(tmp_path))
  np.testing.assert_array_equal(again.test_images, data.test_images)


def test_grey_among_colour_images_is_repeated_to_three_channels(tmp_path):
  write_images(tmp_path, 2, seed=3, shape=(8, 8, 3))
  grey = Image.fromarray(np.full((8, 8), 200, np.uint8))
  grey.save(tmp_path / "ant" / "grey.png")
  data = load_dataset("image_folder", str(tmp_path))
  images = np.concatenate([data.train_images, data.test_images])
  assert images.shape == (7, 8, 8, 3)
  assert sum(np.all(x == 200) for x in images) == 1


def test_sizes_must_agree_unless_resized(tmp_path):
  write_images(tmp_path, 2, seed=4, shape=(8, 8, 3))
  odd = tmp_path / "bee" / "big.png"
  Image.fromarray(np.full((20, 16, 3), 9, np.uint8)).save(odd)
  assert_data_error(load_dataset, "image_folder", str(tmp_path),
                    fragments=["images differ in size", "big.png is 16x20",
                               "pass image_size"])
  data = load_dataset("image_folder", str(tmp_path), image_size=12)
  images = np.concatenate([data.train_images, data.test_images])
  assert images.shape == (7, 12, 12, 3)
  # The constant image stays constant through resizing.
  assert sum(np.all(x == 9) for x in images) == 1


@pytest.mark.parametrize("make", [
    lambda root: None,  # no class folders at all
    lambda root: (root / "cat").mkdir(),  # a class folder without images
])
def test_empty_folders_are_one_line_errors(tmp_path, make):
  make(tmp_path)
  assert_data_error(load_dataset, "image_folder", str(tmp_path),
                    fragments=["image_folder: no images", str(tmp_path)])


@pytest.mark.parametrize("pipeline", ["memory", "stream"])
def test_undecodable_files_are_counted_named_and_skipped_or_fatal(
    tmp_path, pipeline, capsys):
  write_images(tmp_path, 5, seed=5)
  (tmp_path / "cat" / "broken.png").write_bytes(b"not a png")
  good = (tmp_path / "ant" / "000.png").read_bytes()
  (tmp_path / "bee" / "cut.png").write_bytes(good[:len(good) // 2])
  assert_data_error(load_dataset, "image_folder", str(tmp_path),
                    image_size=10, pipeline=pipeline,
                    fragments=["2 of 17 files cannot be decode",
                               "bee/cut.png", "cat/broken.png",
                               "--bad_files=skip"])
  data = load_dataset("image_folder", str(tmp_path), image_size=10,
                      pipeline=pipeline, bad_files="skip")
  line, = [l for l in capsys.readouterr().out.splitlines() if "cannot" in l]
  assert line.startswith("image_folder: 2 of 17 files cannot be decoded")
  assert line.endswith("; skipping them")
  assert len(data.train_labels) + len(data.test_labels) == 15
  assert data.streamed == (pipeline == "stream")


def test_undecodable_files_and_missing_folders_are_named(tmp_path):
  write_images(tmp_path, 1, seed=5)
  (tmp_path / "cat" / "broken.png").write_bytes(b"not a png")
  assert_data_error(load_dataset, "image_folder", str(tmp_path),
                    fragments=["broken.png", "cannot be decoded"])
  assert_data_error(load_dataset, "image_folder", str(tmp_path / "none"),
                    fragments=["does not exist", str(tmp_path / "none")])
  assert_data_error(load_dataset, "image_folder",
                    fragments=["needs data_dir"])
