"""A search with MultiWorkerMirroredStrategy: two worker processes on
127.0.0.1, each with its own TF_CONFIG, as on two machines."""

import json
import os
import sys
import time

import numpy as np
import pytest

from fbnetv2_tf.search.search_model import Supernet
from fbnetv2_tf.specs import builtin_spaces
from tests.testing.paths import REPO_ROOT
from tests.testing.ports import reserved_ports
from tests.testing.processes import ProcessGroup

ARGS = ("--strategy=multi_worker", "--epochs=2", "--warmup_epochs=1",
        "--target_mflops=0.25", "--max_train_images=192", "--batch_size=32",
        "--verbose=0")


def _run_workers(tmp_path):
  """Runs both workers to the end; returns each one's (exit, stdout, stderr).

  Outputs go to files, not pipes: a worker blocked on a full pipe that no
  one reads would stall the other one at their next all-reduce.
  """
  with reserved_ports(2) as ports, ProcessGroup() as group:
    workers = [f"127.0.0.1:{port}" for port in ports]
    procs = []
    for index in range(2):
      env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
             "TF_CONFIG": json.dumps({"cluster": {"worker": workers},
                                      "task": {"type": "worker",
                                               "index": index}})}
      out, err = (open(tmp_path / f"worker{index}.{kind}", "w",
                       encoding="utf-8") for kind in ("out", "err"))
      with out, err:
        procs.append(group.start(
            [sys.executable, "-m", "tools.search",
             f"--output_dir={tmp_path}/worker{index}", *ARGS],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=err))
    deadline = time.monotonic() + 900
    for proc in procs:  # a timeout raises, and the group kills both
      proc.wait(timeout=max(1.0, deadline - time.monotonic()))
  return [(proc.returncode, (tmp_path / f"worker{i}.out").read_text(),
           (tmp_path / f"worker{i}.err").read_text())
          for i, proc in enumerate(procs)]


@pytest.mark.slow
def test_two_workers_end_with_the_same_logits_and_weights(tmp_path):
  for returncode, out, err in _run_workers(tmp_path):
    assert returncode == 0, err[-3000:]
    assert "Derived architecture" in out
  states = []
  for index in range(2):
    with np.load(tmp_path / f"worker{index}" / "checkpoint.npz") as data:
      states.append({k: data[k] for k in data.files})
  assert states[0].keys() == states[1].keys()
  # The checkpoint starts with the model's variables, in order. Weights and
  # logits are all-reduced, so equal; BatchNorm's moving statistics are each
  # worker's own (Keras' BatchNormalization is not synchronized).
  net = Supernet(builtin_spaces.tiny32(), num_classes=10, input_channels=1)
  variables = net.build_for_input().variables
  trainable = [i for i, v in enumerate(variables) if v.trainable]
  logits = [i for i, v in enumerate(variables) if "/logits" in v.path]
  assert len(trainable) > 50 and set(logits) <= set(trainable)
  for i in trainable:
    np.testing.assert_array_equal(states[0][f"v{i}"], states[1][f"v{i}"],
                                  err_msg=variables[i].path)
  # The architecture step ran: the logits left their zero start.
  assert all(np.any(states[0][f"v{i}"] != 0) for i in logits)
  arch = [(tmp_path / f"worker{i}" / "arch.json").read_text()
          for i in range(2)]
  assert arch[0] == arch[1]
