"""LUT files: built, resumed without loss or duplicates, never mixed, and
checked before a search uses them."""

import dataclasses
import json

import numpy as np
import pytest

from fbnetv2_tf.errors import UserError
from fbnetv2_tf.cost.latency_table import LatencyTable
from fbnetv2_tf.lut import build, candidates, convert
from fbnetv2_tf.lut.host import HostRunner
from fbnetv2_tf.errors import DeviceLost
from fbnetv2_tf.lut.runner import LatencyStats, MeasureSettings
from fbnetv2_tf.lut.table_file import LutFile, LutHeader, load_for_search
from fbnetv2_tf.specs.search_space import SearchSpace
from tests.testing.models import MICRO_SPACE

SPACE = SearchSpace.from_dict(MICRO_SPACE)
SAME_SPACE = dataclasses.replace(SPACE, padding="same")
# Every trial counts: the runner calls, and so the flaky runner's loss,
# come in a fixed order (fast-state selection: test_probes.py).
QUICK = MeasureSettings(warmup=2, trials=3, runs=5, fast_within=None)
KEYS = candidates.enumerate_candidates(SPACE, input_channels=1)


class FlakyRunner(HostRunner):
  """The host runner, but the device goes away after ``batches`` calls."""

  def __init__(self, batches):
    self.batches = batches

  def measure(self, models, settings):
    if self.batches == 0:
      raise DeviceLost("device lost mid-run")
    self.batches -= 1
    return super().measure(models, settings)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
  return str(tmp_path_factory.mktemp("cache"))


def _job(path, cache, **kwargs):
  return build.BuildJob(output=str(path), input_channels=1, num_classes=4,
                        cache_dir=cache, workers=1, **kwargs)


def test_a_lost_device_keeps_whole_batches_and_the_rerun_completes(
    tmp_path, cache, monkeypatch):
  monkeypatch.setattr(build, "BATCH", 10)
  lut_path = tmp_path / "micro.json"
  with pytest.raises(DeviceLost):
    build.build_lut(SPACE, FlakyRunner(batches=1), QUICK, _job(lut_path, cache))
  partial = LutFile.load(str(lut_path))
  assert len(partial.rows) == 10
  lut = build.build_lut(SPACE, HostRunner(), QUICK, _job(lut_path, cache))
  entries = json.loads(lut_path.read_text())["entries"]
  assert len(entries) == len(KEYS) == len(lut.rows)
  keys = [tuple(e[f] for f in ("op", "input_size", "stride", "cin", "mid",
                               "cout")) for e in entries]
  assert len(set(keys)) == len(keys)
  # The rows kept from the first run were not measured again.
  for key, stats in partial.rows.items():
    assert lut.rows[key] == stats
  # Every batch measured the runner's fixed cost per invoke; the file's is
  # their median. Most blocks take measurably longer than it; how many depends
  # on the machine's load (23 of 26 on a busy CI runner), so the bound only
  # catches an overhead that swallows the measurements.
  saved = json.loads(lut_path.read_text())
  assert len(saved["overheads_us"]) >= 2
  assert all(o > 0 for o in saved["overheads_us"])
  assert saved["invoke_overhead_us"] == pytest.approx(
      float(np.median(saved["overheads_us"])))
  assert sum(r.median_us > 0 for r in lut.rows.values()) >= 0.5 * len(KEYS)


@pytest.mark.parametrize("median, p90, overhead, own", [
    (50.0, 60.0, 20.0, (30.0, 40.0)),
    (15.0, 25.0, 20.0, (0.0, 5.0)),   # below the overhead: 0, never negative
    (5.0, 8.0, 0.0, (5.0, 8.0))])
def test_a_block_time_is_its_measurement_less_the_invoke_overhead(
    median, p90, overhead, own):
  stats = build._own_time(LatencyStats(median, p90, 1.5), overhead)  # pylint: disable=protected-access
  assert (stats.median_us, stats.p90_us, stats.std_us) == (*own, 1.5)


def test_a_table_measured_otherwise_is_never_extended(tmp_path, cache):
  lut_path = tmp_path / "micro.json"
  build.build_lut(SPACE, HostRunner(), QUICK, _job(lut_path, cache))
  with pytest.raises(UserError, match="threads differ|settings"):
    build.build_lut(SPACE, HostRunner(), MeasureSettings(threads=2, warmup=2,
                                                         trials=3, runs=5),
                    _job(lut_path, cache))
  with pytest.raises(UserError, match=r"\(padding 'symmetric' there, 'same' "
                     r"now\)"):
    build.build_lut(SAME_SPACE, HostRunner(), QUICK, _job(lut_path, cache))
  with pytest.raises(UserError, match=r"\(hswish 'fused' there, 'delegable' "
                     r"now\)"):
    build.build_lut(SPACE, HostRunner(), QUICK,
                    _job(lut_path, cache, hswish="delegable"))
  old = tmp_path / "v1.json"
  old.write_text(json.dumps(LatencyTable(
      {KEYS[0]: 5.0}, "phone").to_dict()))
  with pytest.raises(UserError, match="version 1.*build a new one"):
    build.build_lut(SPACE, HostRunner(), QUICK, _job(old, cache))
  assert LatencyTable.load(old).lookup(*vars(KEYS[0]).values()) == 5.0


def test_a_search_is_told_which_entry_is_missing(tmp_path, cache):
  lut_path = tmp_path / "micro.json"
  lut = build.build_lut(SPACE, HostRunner(), QUICK, _job(lut_path, cache))
  table = load_for_search(str(lut_path), SPACE, 1, 4)
  assert len(table) == len(KEYS) and table.scale == 1.0
  with pytest.raises(UserError, match="1-channel images and 4 classes.*"
                     "rebuild it for 3-channel images and 10 classes"):
    load_for_search(str(lut_path), SPACE, 3, 10)
  data = json.loads(lut_path.read_text())
  dropped = data["entries"].pop(0)
  # Drop every entry of that block's (op, size, stride) group: nothing left
  # to interpolate from.
  data["entries"] = [e for e in data["entries"]
                     if (e["op"], e["input_size"], e["stride"]) !=
                     (dropped["op"], dropped["input_size"], dropped["stride"])]
  lut_path.write_text(json.dumps(data))
  with pytest.raises(UserError, match=f"no entry for {dropped['op']} at "
                     f"{dropped['input_size']} px"):
    load_for_search(str(lut_path), SPACE, 1, 4)
  del lut


def test_a_fitted_correction_beside_the_table_is_applied(tmp_path, cache):
  lut_path = tmp_path / "micro.json"
  build.build_lut(SPACE, HostRunner(), QUICK, _job(lut_path, cache))
  (tmp_path / "micro.calibration.json").write_text(
      json.dumps({"scale": 1.5, "offset_ms": 0.25}))
  table = load_for_search(str(lut_path), SPACE, 1, 4)
  assert (table.scale, table.offset_ms) == (1.5, 0.25)


def test_the_correction_scales_the_search_cost(tmp_path, cache):
  from fbnetv2_tf.search import derive  # pylint: disable=import-outside-toplevel
  lut_path = tmp_path / "micro.json"
  build.build_lut(SPACE, HostRunner(), QUICK, _job(lut_path, cache))
  table = load_for_search(str(lut_path), SPACE, 1, 4)
  choices = derive.argmax_choices(
      {d.name: [0.0] * d.size for d in SPACE.decisions()})
  plain = derive.child_cost(SPACE, "latency_ms", 4, 1, table)(choices)
  table.scale, table.offset_ms = 2.0, 1.0
  corrected = derive.child_cost(SPACE, "latency_ms", 4, 1, table)(choices)
  assert plain > 0 and corrected == pytest.approx(2 * plain + 1.0, rel=1e-5)


def test_int8_candidates_take_int8_and_give_int8(tmp_path):
  from ai_edge_litert.interpreter import Interpreter  # pylint: disable=import-outside-toplevel
  lut_path = tmp_path / "micro_int8.json"
  lut = build.build_lut(SPACE, HostRunner(), QUICK, _job(
      lut_path, str(tmp_path / "cache"), dtype="int8", limit=3))
  assert len(lut.rows) == 3 and lut.header.dtype == "int8"
  # int8 candidates take the h-swish form XNNPACK runs in int8 by default.
  assert lut.header.hswish == "delegable"
  for key in lut.rows:
    interpreter = Interpreter(model_path=convert.candidate_path(
        str(tmp_path / "cache"), key, "int8", lut.header.padding,
        lut.header.hswish))
    # A network quantizes once at its ends, not around every block.
    assert interpreter.get_input_details()[0]["dtype"] == np.int8
    assert interpreter.get_output_details()[0]["dtype"] == np.int8


# ---------------------------------------------------------------------------
# Padding and h-swish form: recorded in the header, never mixed


def _header(**changes):
  return dataclasses.replace(
      LutHeader(space=SPACE.name, input_channels=1, num_classes=4,
                width_divisor=SPACE.width_divisor, dtype="fp32",
                max_grid=None, runner={"runner": "host"},
                settings={"threads": 1}), **changes)


def _write_table(path, header):
  lut = LutFile(str(path), header)
  lut.add({key: LatencyStats(10.0, 12.0, 1.0) for key in KEYS}, 2.0)
  return lut


def test_the_header_keeps_padding_and_hswish_form(tmp_path):
  header = _header(padding="same", hswish="delegable")
  _write_table(tmp_path / "same.json", header)
  saved = json.loads((tmp_path / "same.json").read_text())["header"]
  assert (saved["padding"], saved["hswish"]) == ("same", "delegable")
  assert LutFile.load(str(tmp_path / "same.json")).header == header


def test_a_header_without_the_fields_reads_as_symmetric_and_fused(tmp_path):
  path = tmp_path / "older.json"
  _write_table(path, _header())
  data = json.loads(path.read_text())
  del data["header"]["padding"], data["header"]["hswish"]
  path.write_text(json.dumps(data))
  header = LutFile.load(str(path)).header
  assert (header.padding, header.hswish) == ("symmetric", "fused")
  assert header == _header()
  data["header"]["padding"] = "valid"
  path.write_text(json.dumps(data))
  with pytest.raises(UserError, match="bad header.*'valid'"):
    LutFile.load(str(path))


@pytest.mark.parametrize("change, differing", [
    ({"padding": "same"}, "padding 'symmetric' there, 'same' now"),
    ({"hswish": "delegable"}, "hswish 'fused' there, 'delegable' now")])
def test_a_build_with_another_padding_or_form_is_refused(tmp_path, change,
                                                          differing):
  path = tmp_path / "t.json"
  _write_table(path, _header())
  assert LutFile.open_for_build(str(path), _header()).rows
  with pytest.raises(UserError) as e:
    LutFile.open_for_build(str(path), _header(**change))
  assert f"other settings ({differing}); resume with its settings" in str(e.value)


def test_a_search_refuses_a_table_of_another_padding(tmp_path):
  path = tmp_path / "t.json"
  _write_table(path, _header())
  assert len(load_for_search(str(path), SPACE, 1, 4)) == len(KEYS)
  with pytest.raises(UserError) as e:
    load_for_search(str(path), SAME_SPACE, 1, 4)
  assert str(e.value) == (f"{path} was measured with symmetric padding, "
                          "space micro pads as same: rebuild it")
  _write_table(path, _header(padding="same"))
  assert len(load_for_search(str(path), SAME_SPACE, 1, 4)) == len(KEYS)
  with pytest.raises(UserError, match="same padding, space micro pads as "
                     "symmetric"):
    load_for_search(str(path), SPACE, 1, 4)
  # A table without a header (version 1) was measured before padding could
  # be chosen: symmetric.
  old = tmp_path / "v1.json"
  old.write_text(json.dumps(LatencyTable(
      {key: 5.0 for key in KEYS}, "phone").to_dict()))
  assert len(load_for_search(str(old), SPACE, 1, 4)) == len(KEYS)
  with pytest.raises(UserError, match="symmetric padding"):
    load_for_search(str(old), SAME_SPACE, 1, 4)


@pytest.mark.slow  # a build: conversion in a spawned process, settling
def test_a_same_padded_space_builds_same_padded_candidates(tmp_path, cache):
  from fbnetv2_tf.export import graph  # pylint: disable=import-outside-toplevel
  lut = build.build_lut(SAME_SPACE, HostRunner(), QUICK, _job(
      tmp_path / "same.json", cache, limit=1))
  assert (lut.header.padding, lut.header.hswish) == ("same", "fused")
  (key,) = lut.rows
  assert (key.op, key.stride) == ("conv_k3", 2)
  path = convert.candidate_path(cache, key, "fp32", "same")
  assert path.endswith(".same.fp32.tflite")
  with open(path, "rb") as f:
    assert "PAD" not in graph.op_counts(f.read())


def test_a_build_takes_the_hswish_form_of_its_dtype():
  assert _job("t.json", "c").hswish_form == "fused"
  assert _job("t.json", "c", dtype="int8").hswish_form == "delegable"
  assert _job("t.json", "c", dtype="int8",
              hswish="fused").hswish_form == "fused"
