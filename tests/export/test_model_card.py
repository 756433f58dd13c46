"""The model card traces a model back through the files the binaries write."""

import json

from fbnetv2_tf.export import model_card
from fbnetv2_tf.specs.arch_spec import save_archs
from fbnetv2_tf.specs.arch_string import parse_arch_string, to_arch_string

ARCH = parse_arch_string("child@32/8: conv_k3_hs-c8-s2 | ir_k3-c16-e3")


def _search_and_train(tmp_path, lut=None):
  """A search directory and a training directory as fbnetv2-search and
  fbnetv2-train leave them (only the files the trace reads)."""
  search, train = tmp_path / "search", tmp_path / "train"
  search.mkdir()
  train.mkdir()
  save_archs(search / "arch.json", [ARCH])
  (search / "flags.json").write_text(json.dumps(
      {"space": "tiny32", "loss": "budget", "target_mflops": 0.3,
       "target_mparams": None, "lut": lut}))
  (search / "search_result.json").write_text(json.dumps(
      {"arch": "child", "counted_cost": 0.2833, "metric": "mflops"}))
  (train / "flags.json").write_text(json.dumps(
      {"arch": str(search / "arch.json"), "dataset": "fashion_mnist",
       "epochs": 8}))
  (train / "train_result.json").write_text(json.dumps(
      {"arch": "child", "test_accuracy": 0.8869}))
  (train / "child.keras").write_bytes(b"")  # the trace reads only its path
  return search, train


def test_a_trained_child_traces_to_its_training_and_its_search(tmp_path):
  search, train = _search_and_train(tmp_path)
  provenance = model_card.trace(str(train / "child.keras"))
  assert provenance == {
      "training": {"dataset": "fashion_mnist", "epochs": 8,
                   "test_accuracy": 0.8869},
      "arch": to_arch_string(ARCH),
      "search": {"space": "tiny32", "loss": "budget", "counted_cost": 0.2833,
                 "metric": "mflops", "targets": {"MFLOPs": 0.3}}}
  # An --arch that is the search's arch.json starts the trace there.
  assert model_card.trace(str(search / "arch.json")) == {
      "arch": provenance["arch"], "search": provenance["search"]}


def test_a_table_that_is_gone_leaves_its_path_only(tmp_path):
  _, train = _search_and_train(tmp_path, lut=str(tmp_path / "gone.json"))
  lut = model_card.trace(str(train / "child.keras"))["search"]["lut"]
  assert lut == {"path": str(tmp_path / "gone.json")}


def test_what_cannot_be_traced_is_left_out(tmp_path):
  lone = tmp_path / "lone.keras"
  lone.write_bytes(b"")
  assert model_card.trace(str(lone)) == {}
  assert model_card.trace("FBNetV2_F1") == {}
  assert model_card.trace(None) == {}
