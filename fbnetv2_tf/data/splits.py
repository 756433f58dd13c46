"""Deterministic stratified splits of a labelled set; the fixed test
hold-out of sources that have no test split."""

from __future__ import annotations

import numpy as np


def stratified_split(labels: np.ndarray, fraction: float, seed: int
                     ) -> tuple[np.ndarray, np.ndarray]:
  """Splits indices into a ``fraction`` part and the rest, class by class.

  The first part holds ``round(fraction * len(labels))`` indices and every
  class contributes the floor or the ceiling of its share (largest-remainder
  allocation), so class proportions match as closely as integers allow. The
  choice within a class is random but fixed by ``seed``.

  Args:
    labels: int ``[N]``.
    fraction: in ``[0, 1]``.
    seed: the random choice within each class.

  Returns:
    ``(first, rest)``: disjoint sorted int64 index arrays covering
    ``range(N)``.
  """
  if not 0.0 <= fraction <= 1.0:
    raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
  labels = np.asarray(labels)
  classes, inverse, counts = np.unique(labels, return_inverse=True,
                                       return_counts=True)
  quotas = counts * fraction
  taken = np.floor(quotas).astype(np.int64)
  short = int(round(fraction * len(labels))) - int(taken.sum())
  # Ties between equal remainders go to the lower class id: deterministic.
  by_remainder = np.argsort(-(quotas - taken), kind="stable")
  taken[by_remainder[:short]] += 1
  rng = np.random.default_rng(seed)
  first = []
  for c in range(len(classes)):
    members = np.flatnonzero(inverse == c)
    first.append(rng.permutation(members)[:taken[c]])
  first = np.sort(np.concatenate(first)) if first else np.zeros(0, np.int64)
  rest = np.setdiff1d(np.arange(len(labels)), first)
  return first.astype(np.int64), rest.astype(np.int64)


# Sources without a test split of their own hold out a fixed 20 % of each
# class. The seed is fixed once and for all: the test set must not move with
# the search seed, or accuracies of different runs would not be comparable.
TEST_FRACTION = 0.2
TEST_SPLIT_SEED = 0


def hold_out_test(images: np.ndarray, labels: np.ndarray):
  """``((train_images, train_labels), (test_images, test_labels))`` with a
  fixed stratified ``TEST_FRACTION`` of the images in the test part."""
  test, train = stratified_split(labels, TEST_FRACTION, TEST_SPLIT_SEED)
  return (images[train], labels[train]), (images[test], labels[test])
