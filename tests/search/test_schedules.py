"""The temperature schedule: defined by the run, or FBNet's per-epoch decay."""

import math

import pytest

from fbnetv2_tf.search.schedules import TemperatureSchedule


def test_anneals_geometrically_from_initial_to_final_over_the_arch_epochs():
  schedule = TemperatureSchedule(5.0, 0.2)
  values = [schedule(e, warmup=2, epochs=10) for e in range(10)]
  assert values[:3] == [5.0, 5.0, 5.0]  # warm-up, then the first arch epoch
  assert values[-1] == pytest.approx(0.2)
  ratios = [b / a for a, b in zip(values[2:], values[3:])]
  assert ratios == pytest.approx([(0.2 / 5.0) ** (1 / 7)] * 7)


def test_the_end_point_does_not_depend_on_the_search_length():
  schedule = TemperatureSchedule(4.0, 0.1)
  for epochs in (3, 10, 90):
    assert schedule(epochs - 1, 1, epochs) == pytest.approx(0.1)


def test_fbnet_form_decays_per_epoch():
  schedule = TemperatureSchedule.fbnet()
  assert schedule(90, 10, 90) == pytest.approx(5.0 * math.exp(-0.045 * 90))
  assert schedule(0, 0, 90) == 5.0


def test_a_single_architecture_epoch_runs_at_the_final_temperature():
  assert TemperatureSchedule(5.0, 0.5)(3, 3, 4) == 0.5


@pytest.mark.parametrize("kwargs", [{"initial": 0.0}, {"final": -1.0},
                                    {"decay": -0.1}])
def test_bad_schedules_are_refused(kwargs):
  with pytest.raises(ValueError):
    TemperatureSchedule(**kwargs)
