"""Dataset loaders: digits, IDX files, Fashion-MNIST, and their errors."""

import gzip
import struct

import numpy as np
import pytest
from sklearn import datasets

from fbnetv2_tf.data import ImageData, known_datasets, load_dataset
from tests.testing.data_errors import assert_data_error
from tests.testing.imports import heavy_modules_imported_by


@pytest.fixture(scope="module")
def digits():
  return load_dataset("digits")


def test_importing_the_package_does_not_import_tensorflow():
  assert heavy_modules_imported_by("fbnetv2_tf.data") == []


def test_known_datasets_lists_every_source():
  assert known_datasets() == ["digits", "fashion_mnist", "idx", "image_folder",
                              "tfrecord", "tfds:<name>"]


def test_digits_shapes_dtypes_and_classes(digits):
  assert digits.name == "digits" and digits.image_shape == (32, 32, 1)
  assert digits.train_images.dtype == np.uint8
  assert digits.train_labels.dtype == digits.test_labels.dtype == np.int32
  # 1797 images, 20 % (rounded) held out.
  assert (len(digits.train_labels), len(digits.test_labels)) == (1438, 359)
  assert digits.num_classes == 10 and digits.class_names == tuple("0123456789")
  assert set(digits.train_labels) == set(digits.test_labels) == set(range(10))
  assert digits.train_images.min() == 0 and digits.train_images.max() == 255
  assert not digits.flip


def test_digits_test_split_is_fixed_and_stratified(digits):
  again = load_dataset("digits", image_size=16)
  np.testing.assert_array_equal(again.test_labels, digits.test_labels)
  counts = np.bincount(digits.test_labels) / np.bincount(
      np.concatenate([digits.train_labels, digits.test_labels]))
  assert np.all(np.abs(counts - 0.2) < 0.01)


def test_digits_at_native_size_are_sklearns_images_scaled_to_255():
  data = load_dataset("digits", image_size=8)
  expected = np.round(datasets.load_digits().images * 255 / 16).astype(np.uint8)
  got = np.concatenate([data.train_images, data.test_images])[..., 0]
  as_rows = lambda a: sorted(map(bytes, a.reshape(len(a), -1)))
  assert as_rows(got) == as_rows(expected)


def test_subset_is_stratified_deterministic_and_taken_from_the_data(digits):
  small = digits.subset(max_train=200, max_test=50, seed=3)
  assert (len(small.train_labels), len(small.test_labels)) == (200, 50)
  assert np.all(np.abs(np.bincount(small.train_labels, minlength=10) - 20) <= 1)
  again = digits.subset(max_train=200, max_test=50, seed=3)
  np.testing.assert_array_equal(small.train_images, again.train_images)
  other = digits.subset(max_train=200, max_test=50, seed=4)
  assert not np.array_equal(small.train_images, other.train_images)
  originals = set(map(bytes, digits.train_images))
  assert set(map(bytes, small.train_images)) <= originals
  assert digits.subset(max_test=10_000).test_labels is digits.test_labels


def write_idx(path, array: np.ndarray) -> None:
  """An IDX file: magic 0x0000 0x08 (uint8) ndim, big-endian dims, data."""
  raw = (bytes([0, 0, 0x08, array.ndim]) +
         struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes())
  with (gzip.open if str(path).endswith(".gz") else open)(path, "wb") as f:
    f.write(raw)


@pytest.fixture
def idx_folder(tmp_path):
  """An IDX folder with 10x9 images, mixing gzipped and plain files."""
  rng = np.random.default_rng(0)
  arrays = {
      "train-images-idx3-ubyte.gz": rng.integers(0, 256, (12, 10, 9), np.uint8),
      "train-labels-idx1-ubyte": np.arange(12, dtype=np.uint8) % 4,
      "t10k-images-idx3-ubyte": rng.integers(0, 256, (5, 10, 9), np.uint8),
      "t10k-labels-idx1-ubyte.gz": np.array([0, 1, 2, 3, 6], np.uint8)}
  for name, array in arrays.items():
    write_idx(tmp_path / name, array)
  return tmp_path, list(arrays.values())


def test_idx_folder_loads_exactly(idx_folder):
  folder, (train_x, train_y, test_x, test_y) = idx_folder
  data = load_dataset("idx", data_dir=str(folder))
  np.testing.assert_array_equal(data.train_images, train_x[..., None])
  np.testing.assert_array_equal(data.train_labels, train_y)
  np.testing.assert_array_equal(data.test_images, test_x[..., None])
  np.testing.assert_array_equal(data.test_labels, test_y)
  assert data.image_shape == (10, 9, 1) and data.train_labels.dtype == np.int32
  assert data.num_classes == 7 and data.class_names is None and not data.flip


def test_fashion_mnist_from_a_data_dir_has_names_and_flips(idx_folder):
  folder, (train_x, *_) = idx_folder
  data = load_dataset("fashion_mnist", data_dir=str(folder), image_size=16)
  assert data.image_shape == (16, 16, 1) and data.flip
  assert data.num_classes == 10 and data.class_names[9] == "Ankle boot"
  # Resizing a constant image keeps it constant.
  write_idx(folder / "train-images-idx3-ubyte.gz",
            np.full((12, 10, 9), 77, np.uint8))
  flat = load_dataset("fashion_mnist", data_dir=str(folder), image_size=16)
  assert np.all(flat.train_images == 77)
  assert not np.array_equal(flat.train_images[0], data.train_images[0])


def test_dotted_idx_file_names_are_found(tmp_path):
  for split, n in (("train", 3), ("t10k", 2)):
    write_idx(tmp_path / f"{split}-images.idx3-ubyte",
              np.full((n, 8, 8), n, np.uint8))
    write_idx(tmp_path / f"{split}-labels.idx1-ubyte", np.zeros(n, np.uint8))
  data = load_dataset("idx", data_dir=str(tmp_path))
  assert data.train_images.shape == (3, 8, 8, 1) and data.test_images.max() == 2


# Needs Debian's dataset-fashion-mnist, which .ci/run installs.
def test_installed_fashion_mnist_has_the_published_sizes():
  data = load_dataset("fashion_mnist")
  assert data.train_images.shape == (60000, 28, 28, 1)
  assert data.test_images.shape == (10000, 28, 28, 1)
  assert np.all(np.bincount(data.train_labels) == 6000)
  assert np.all(np.bincount(data.test_labels) == 1000)


def test_corrupt_and_truncated_idx_files_name_the_file(idx_folder):
  folder, _ = idx_folder
  (folder / "t10k-images-idx3-ubyte").write_bytes(b"\x08\x03\0\0" + bytes(40))
  assert_data_error(load_dataset, "idx", str(folder),
                    fragments=["t10k-images-idx3-ubyte", "magic number"])
  write_idx(folder / "t10k-images-idx3-ubyte", np.zeros((5, 10, 9), np.uint8))
  path = folder / "t10k-images-idx3-ubyte"
  path.write_bytes(path.read_bytes()[:-1])
  assert_data_error(load_dataset, "idx", str(folder),
                    fragments=["t10k-images-idx3-ubyte", "449 bytes"])
  (folder / "t10k-images-idx3-ubyte").unlink()
  (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip")
  assert_data_error(load_dataset, "idx", str(folder),
                    fragments=["t10k-images-idx3-ubyte.gz", "cannot read"])


def test_missing_idx_files_and_folders_are_named(idx_folder, tmp_path):
  folder, _ = idx_folder
  (folder / "t10k-labels-idx1-ubyte.gz").unlink()
  assert_data_error(load_dataset, "idx", str(folder),
                    fragments=["missing t10k-labels-idx1-ubyte", str(folder)])
  assert_data_error(load_dataset, "idx", fragments=["idx: needs data_dir"])
  nowhere = str(tmp_path / "nowhere")
  assert_data_error(
      load_dataset, "fashion_mnist", nowhere,
      fragments=[nowhere, "apt-get install dataset-fashion-mnist"])
  assert_data_error(load_dataset, "idx", nowhere,
                    fragments=[nowhere, "does not exist"])


def test_mismatched_counts_are_reported(idx_folder):
  folder, _ = idx_folder
  write_idx(folder / "train-labels-idx1-ubyte", np.zeros(11, np.uint8))
  assert_data_error(load_dataset, "idx", str(folder),
                    fragments=["12 train images but 11 labels"])


@pytest.mark.parametrize("args, fragments", [
    (("cifar",), ["unknown dataset 'cifar'", "digits, fashion_mnist, idx, "
                  "image_folder, tfrecord, tfds:<name>", "fbnetv2_tf.data.registry"]),
    (("tfds:",), ["unknown dataset 'tfds:'"]),
    (("digits", None, 4), ["image_size 4 is too small", "8 or more"]),
    (("digits", None, 16.0), ["image_size must be an integer"]),
    (("digits", "/data"), ["digits", "reads no data_dir"]),
])
def test_bad_requests_are_one_line_errors(args, fragments):
  assert_data_error(load_dataset, *args, fragments=fragments)


def test_image_data_is_frozen(digits):
  assert isinstance(digits, ImageData)
  with pytest.raises(AttributeError):
    digits.num_classes = 3
