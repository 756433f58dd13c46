"""The data tour example runs as documented and prints what it promises."""

import re

from tests.testing.cli import run_example


def test_data_tour_prints_the_digits_split_and_a_search_batch(tmp_path):
  result = run_example("data_tour.py", tmp_path)
  assert result.returncode == 0, result.stderr
  out = result.stdout
  assert ("digits: 1438 train + 359 test images of (32, 32, 1), 10 classes"
          in out)
  assert "search split: 1150 weight / 288 arch images" in out
  assert ("35 steps per epoch; weight batch (32, 32, 32, 1) float32, "
          "arch batch (32, 32, 32, 1)") in out
  assert "pixel range [-1.0, 1.0]" in out
  for part in ("weight", "arch"):
    labels = re.search(rf"first {part} labels: ([\d ]+)", out).group(1).split()
    assert len(labels) == 8 and all(0 <= int(l) <= 9 for l in labels)
  assert "resumed at epoch 2, first batch identical: True" in out
  # The folder of 1438 PNGs and one broken file: 20 % held out as the test
  # split, the broken file named and left out.
  assert "1 of 1439 files cannot be decoded" in out and "broken.png" in out
  assert "streamed: True, 1150 train files of (32, 32, 1)" in out
  assert "streamed and in-memory first batch identical: True" in out
