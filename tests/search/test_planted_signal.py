"""Planted signal: the logits learn from cross-entropy (benchmarks/planted_signal.py).

A micro space on the built-in digits whose output-width decision offers 2, 4
or 24 channels; with the CE-only loss a search that learns picks 24 channels.
Cutting the CE path to the decision weights must make the same experiment
fail, so the test cannot pass by accident.
"""

import pytest

from benchmarks import planted_signal
from fbnetv2_tf import data

SEEDS = 10


@pytest.fixture(scope="module")
def digits16():
  return data.load_dataset("digits", image_size=16)


@pytest.mark.slow
def test_the_search_picks_the_planted_option_in_9_of_10_seeds(digits16):
  picks = [planted_signal.run_planted(seed, data=digits16)["picked"]
           for seed in range(SEEDS)]
  assert sum(picks) >= 9


@pytest.mark.slow
def test_with_the_ce_path_cut_the_logits_do_not_learn(digits16):
  runs = [planted_signal.run_planted(seed, cut=True, data=digits16)
          for seed in range(3)]
  assert not any(r["picked"] for r in runs)
  assert all(r["p_planted"] == pytest.approx(1 / 3, abs=1e-3) for r in runs)
