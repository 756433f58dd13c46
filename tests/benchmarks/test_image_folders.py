"""Fashion-MNIST as an image folder (benchmarks/image_folders.py): the files,
their class folders and sizes, resuming, and the corrupt files the stream
loader must skip.

Needs Debian's dataset-fashion-mnist, which .ci/run installs.
"""

import os

import numpy as np
import pytest
from PIL import Image

from benchmarks import image_folders
from fbnetv2_tf.data.image_folder import load_image_folder
from fbnetv2_tf.data.idx import FASHION_MNIST_CLASSES

TRAIN, TEST, CORRUPT = 30, 10, 2
FOLDERS = ["0_T-shirt_top", "1_Trouser", "2_Pullover", "3_Dress", "4_Coat",
           "5_Sandal", "6_Shirt", "7_Sneaker", "8_Bag", "9_Ankle_boot"]


def _files(root, split):
  return sorted(os.path.join(d, f) for d, _, names in
                os.walk(os.path.join(root, split)) for f in names)


@pytest.fixture(scope="module", params=[("png", 32), ("jpeg", 64)],
                ids=["png32", "jpeg64"])
def written(request, tmp_path_factory):
  fmt, size = request.param
  root = str(tmp_path_factory.mktemp(f"{fmt}{size}"))
  summary = image_folders.main([f"--format={fmt}", f"--size={size}",
                                f"--max_train={TRAIN}", f"--max_test={TEST}",
                                f"--corrupt={CORRUPT}", f"--output={root}"])
  return root, fmt, size, summary


def test_class_folders_are_the_dataset_names_in_label_order(written):
  root, _, _, summary = written
  assert summary["class_folders"] == FOLDERS
  assert len(FOLDERS) == len(FASHION_MNIST_CLASSES)
  for split in ("train", "test"):
    assert sorted(os.listdir(os.path.join(root, split))) == FOLDERS


def test_file_counts_sizes_and_stratification(written):
  root, fmt, size, summary = written
  extension = image_folders.FORMATS[fmt]
  train, test = _files(root, "train"), _files(root, "test")
  assert (summary["train"], summary["test"]) == (TRAIN, TEST)
  assert len(train) == TRAIN + CORRUPT and len(test) == TEST
  assert all(p.endswith(f".{extension}") for p in train + test)
  corrupt = [p for p in train if "corrupt_" in os.path.basename(p)]
  assert sorted(corrupt) == sorted(summary["corrupt"])
  assert {os.path.basename(p).split("_")[1] for p in corrupt} == {
      "truncated", "garbage"}
  for path in sorted(set(train) - set(corrupt)) + test:
    with Image.open(path) as image:
      assert image.size == (size, size) and image.mode == "L"
  # 3 good train files and 1 test file per class.
  for folder in FOLDERS:
    good = [f for f in os.listdir(os.path.join(root, "train", folder))
            if not f.startswith("corrupt_")]
    assert len(good) == TRAIN // len(FOLDERS)
    assert len(os.listdir(os.path.join(root, "test", folder))) == 1


def test_stream_loader_skips_exactly_the_corrupt_files(written, capsys):
  root, _, size, summary = written
  data = load_image_folder(root, size, pipeline="stream", bad_files="skip")
  line = capsys.readouterr().out
  assert f"{CORRUPT} of {TRAIN + CORRUPT + TEST} files cannot be decoded" in (
      line)
  assert all(p in line for p in summary["corrupt"])
  assert data.streamed and data.image_shape == (size, size, 1)
  assert len(data.train_labels) == TRAIN and len(data.test_labels) == TEST
  kept = set(data.train_images.paths)
  assert not kept & set(summary["corrupt"])
  assert np.bincount(data.train_labels).tolist() == [3] * len(FOLDERS)
  # The folders' labels are Fashion-MNIST's: class i is folder i.
  assert data.class_names == tuple(FOLDERS)


def test_a_rerun_resumes_and_refuses_other_settings(written):
  root, fmt, size, _ = written
  folder = os.path.join(root, "train", FOLDERS[0])
  first = os.path.join(folder, min(f for f in os.listdir(folder)
                                   if not f.startswith("corrupt_")))
  os.remove(first)
  again = image_folders.write_image_folder(
      root, fmt, size, max_train=TRAIN, max_test=TEST, corrupt=CORRUPT,
      progress=False)
  assert (again["written"], again["skipped"]) == (1, TRAIN + TEST - 1)
  assert os.path.exists(first)
  assert not [p for p in _files(root, "train") if p.endswith(".part")]
  with pytest.raises(ValueError, match="other settings"):
    image_folders.write_image_folder(root, fmt, size + 8, max_train=TRAIN,
                                     max_test=TEST, corrupt=CORRUPT)
