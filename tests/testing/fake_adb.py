#!/usr/bin/env python3
"""A stand-in for Android's ``adb`` that keeps the real command-line contract.

It answers ``devices``, ``push`` and ``shell`` with the real tool's output
and exit codes; a pushed ``benchmark_model`` runs the pushed ``.tflite`` in
LiteRT on the host and prints what TFLite's benchmark_model prints.

Configured by environment variables:
  FAKE_ADB_ROOT: required; each device's filesystem is ROOT/SERIAL/, and
    ROOT/adb.log gets one line per call ("SERIAL ARGS...").
  FAKE_ADB_DEVICES: "SER1:device,SER2:unauthorized" (default: none).
  FAKE_ADB_PROPS: JSON of getprop values over those of a Pixel 7.
  FAKE_ADB_GOVERNOR: cpu0's scaling_governor ("" for no such file).
  FAKE_ADB_LOSE_AFTER: after this many benchmark_model runs every device
    disappears, as if unplugged.

``install(directory)`` writes an executable ``adb`` shim that runs this
script, for PATH or for ``AdbRunner(adb=...)``.
"""

import json
import os
import shlex
import shutil
import stat
import sys
import time

PROPS = {
    "ro.product.model": "Pixel 7",
    "ro.product.manufacturer": "Google",
    "ro.soc.model": "GS201",
    "ro.board.platform": "gs201",
    "ro.product.cpu.abi": "arm64-v8a",
    "ro.build.version.release": "14",
    "ro.build.version.sdk": "34",
}
GOVERNOR_FILE = "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"
UNAUTHORIZED = ("error: device unauthorized.\n"
                "This adb server's $ADB_VENDOR_KEYS is not set\n"
                "Try 'adb kill-server' if that seems wrong.\n"
                "Otherwise check for a confirmation dialog on your device.")


def install(directory) -> str:
  """Writes DIRECTORY/adb running this script; returns its path."""
  path = os.path.join(directory, "adb")
  with open(path, "w") as f:
    f.write(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} "
            f"{shlex.quote(os.path.abspath(__file__))} \"$@\"\n")
  os.chmod(path, 0o755)
  return path


class Exit(Exception):
  """Ends the call: ``message`` to stderr, exit with ``code``."""

  def __init__(self, code, message=""):
    super().__init__(message)
    self.code = code
    self.message = message


def _root():
  if not os.environ.get("FAKE_ADB_ROOT"):
    raise Exit(1, "fake adb: FAKE_ADB_ROOT is not set")
  return os.environ["FAKE_ADB_ROOT"]


def _runs_file():
  return os.path.join(_root(), "benchmark_runs")


def _benchmark_runs():
  try:
    with open(_runs_file()) as f:
      return int(f.read())
  except FileNotFoundError:
    return 0


def _devices():
  """``[(serial, state)]`` connected now."""
  lose_after = os.environ.get("FAKE_ADB_LOSE_AFTER")
  if lose_after and _benchmark_runs() >= int(lose_after):
    return []
  spec = os.environ.get("FAKE_ADB_DEVICES", "")
  return [tuple(item.split(":", 1)) for item in spec.split(",") if item]


def _select(serial):
  devices = dict(_devices())
  if serial is None:
    if not devices:
      raise Exit(1, "error: no devices/emulators found")
    if len(devices) > 1:
      raise Exit(1, "error: more than one device/emulator")
    serial = next(iter(devices))
  if serial not in devices:
    raise Exit(1, f"error: device '{serial}' not found")
  if devices[serial] == "unauthorized":
    raise Exit(1, UNAUTHORIZED)
  if devices[serial] == "offline":
    raise Exit(1, "error: device offline")
  return serial


class Device:
  """One fake phone: its filesystem lives under ROOT/SERIAL."""

  def __init__(self, serial):
    self.serial = serial
    self.top = os.path.join(_root(), serial)
    if not os.path.isdir(self.top):
      os.makedirs(os.path.join(self.top, "data", "local", "tmp"))
      governor = os.environ.get("FAKE_ADB_GOVERNOR", "schedutil")
      if governor:
        path = self.local(GOVERNOR_FILE)
        os.makedirs(os.path.dirname(path))
        with open(path, "w") as f:
          f.write(governor + "\n")

  def local(self, remote):
    """Where a device path lives on the host (never outside the device)."""
    return os.path.join(self.top, os.path.normpath("/" + remote).lstrip("/"))

  def push(self, local, remote):
    if not os.path.exists(local):
      raise Exit(1, f"adb: error: cannot stat '{local}': No such file or "
                    "directory")
    target = self.local(remote)
    if remote.endswith("/") or os.path.isdir(target):
      target = os.path.join(target, os.path.basename(local))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    start = time.perf_counter()
    shutil.copyfile(local, target)
    seconds = max(time.perf_counter() - start, 1e-3)
    size = os.path.getsize(local)
    print(f"{local}: 1 file pushed, 0 skipped. {size / seconds / 1e6:.1f} "
          f"MB/s ({size} bytes in {seconds:.3f}s)")

  def shell(self, line):
    """Runs one command line the way the device's /system/bin/sh would."""
    with open(os.path.join(_root(), "shell.log"), "a") as f:
      f.write(f"{self.serial} {line}\n")
    argv = shlex.split(line)
    if not argv:
      raise Exit(1, "fake adb: interactive shells are not supported")
    return self.command(argv)

  def command(self, argv):
    name, args = argv[0], argv[1:]
    if name == "getprop":
      props = {**PROPS, "ro.serialno": self.serial,
               **json.loads(os.environ.get("FAKE_ADB_PROPS", "{}"))}
      if args:
        print(props.get(args[0], ""))
      else:
        for key, value in sorted(props.items()):
          print(f"[{key}]: [{value}]")
      return 0
    if name == "cat":
      for path in args:
        if not os.path.isfile(self.local(path)):
          raise Exit(1, f"cat: {path}: No such file or directory")
        with open(self.local(path)) as f:
          sys.stdout.write(f.read())
      return 0
    if name == "chmod":
      for path in args[1:]:
        if not os.path.exists(self.local(path)):
          raise Exit(1, f"chmod: {path}: No such file or directory")
        os.chmod(self.local(path), int(args[0], 8))
      return 0
    if name == "mkdir":
      for path in (a for a in args if not a.startswith("-")):
        os.makedirs(self.local(path), exist_ok="-p" in args)
      return 0
    if name == "rm":
      for path in (a for a in args if not a.startswith("-")):
        target = self.local(path)
        if os.path.isdir(target):
          shutil.rmtree(target)
        elif os.path.exists(target):
          os.remove(target)
      return 0
    if name == "taskset":
      try:
        if not args or int(args[0], 16) <= 0:
          raise ValueError
      except ValueError:
        raise Exit(1, f"taskset: bad mask '{' '.join(args[:1])}'") from None
      return self.command(args[1:])
    if "/" in name:
      target = self.local(name)
      if not os.path.isfile(target):
        raise Exit(127, f"/system/bin/sh: {name}: not found")
      if not os.stat(target).st_mode & stat.S_IXUSR:
        raise Exit(126, f"/system/bin/sh: {name}: can't execute: Permission "
                        "denied")
      if os.path.basename(name) == "benchmark_model":
        runs = _benchmark_runs() + 1
        with open(_runs_file(), "w") as f:
          f.write(str(runs))
        return self.benchmark_model(args)
    raise Exit(127, f"/system/bin/sh: {name}: inaccessible or not found")

  def benchmark_model(self, args):
    """TFLite's benchmark_model, timed in LiteRT on the host."""
    params = {"num_threads": "-1", "warmup_runs": "1", "num_runs": "50",
              "min_secs": "1", "warmup_min_secs": "0.5", "max_secs": "150",
              "graph": ""}
    for arg in args:
      key, _, value = arg.lstrip("-").partition("=")
      params[key] = value
    log("STARTING!")
    log(f"Min num runs: [{params['num_runs']}]")
    log(f"Num threads: [{params['num_threads']}]")
    log(f"Graph: [{params['graph']}]")
    log(f"Min warmup runs: [{params['warmup_runs']}]")
    # Imported only here, so that the other commands answer at once.
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter
    start = time.perf_counter()
    try:
      interpreter = Interpreter(model_path=self.local(params["graph"]),
                                num_threads=int(params["num_threads"]))
      interpreter.allocate_tensors()
    except (ValueError, RuntimeError):
      raise Exit(1, f"ERROR: Failed to mmap model {params['graph']}\n"
                    "ERROR: Benchmarking failed.") from None
    init_us = int((time.perf_counter() - start) * 1e6)
    log(f"Loaded model {params['graph']}")
    log("The input model file size (MB): "
        f"{os.path.getsize(self.local(params['graph'])) / 1e6:g}")
    log(f"Initialized session in {init_us / 1e3:g}ms.")
    rng = np.random.default_rng(0)
    for detail in interpreter.get_input_details():
      interpreter.set_tensor(detail["index"], rng.uniform(
          -1, 1, detail["shape"]).astype(detail["dtype"]))
    warmup = run(interpreter.invoke, int(params["warmup_runs"]),
                 float(params["warmup_min_secs"]), float(params["max_secs"]))
    timed = run(interpreter.invoke, int(params["num_runs"]),
                float(params["min_secs"]), float(params["max_secs"]))
    log(f"Inference timings in us: Init: {init_us}, First inference: "
        f"{warmup[0] if warmup else 0}, Warmup (avg): {avg(warmup):g}, "
        f"Inference (avg): {avg(timed):g}")
    return 0


def log(message):
  """TFLITE_LOG(INFO): stdout, "INFO: " first."""
  print(f"INFO: {message}")


def avg(values):
  return sum(values) / len(values) if values else float("nan")


def run(invoke, min_runs, min_secs, max_secs):
  """BenchmarkModel::Run: microseconds of each invoke, and its stats line."""
  log(f"Running benchmark for at least {min_runs} iterations and at least "
      f"{min_secs:g} seconds but terminate if exceeding {max_secs:g} seconds.")
  values = []
  now = begin = time.perf_counter()
  while ((len(values) < min_runs or now < begin + min_secs)
         and now <= begin + max_secs):
    start = time.perf_counter()
    invoke()
    now = time.perf_counter()
    values.append(int((now - start) * 1e6))
  # tsl::Stat<int64_t>::OutputToStream; its std is an integer too.
  if not values:
    stats = "count=0"
  elif min(values) == max(values):
    stats = f"count={len(values)} curr={values[-1]}"
    stats += "(all same)" if len(values) > 1 else ""
  else:
    mean = avg(values)
    std = int(max(sum(v * v for v in values) / len(values) - mean ** 2, 0)
              ** 0.5)
    stats = (f"count={len(values)} first={values[0]} curr={values[-1]} "
             f"min={min(values)} max={max(values)} avg={mean:g} std={std}")
  log(stats + "\n")
  return values


def main(argv):
  serial = os.environ.get("ANDROID_SERIAL")
  if argv[:1] == ["-s"]:
    if len(argv) < 2:
      raise Exit(1, "adb: -s requires an argument")
    serial, argv = argv[1], argv[2:]
  with open(os.path.join(_root(), "adb.log"), "a") as f:
    f.write(f"{serial or '-'} {' '.join(argv)}\n")
  if not argv:
    raise Exit(1, "adb: usage: no command specified")
  command, args = argv[0], argv[1:]
  if command == "devices":
    print("List of devices attached")
    for device, state in _devices():
      print(f"{device}\t{state}")
    print()
    return 0
  if command == "push":
    if len(args) != 2:
      raise Exit(1, "adb: usage: push requires an argument")
    Device(_select(serial)).push(*args)
    return 0
  if command == "shell":
    # adb joins the arguments into one line for the device's shell, and
    # returns the remote command's exit code.
    return Device(_select(serial)).shell(" ".join(args))
  raise Exit(1, f"adb: unknown command {command}")


if __name__ == "__main__":
  try:
    sys.exit(main(sys.argv[1:]))
  except Exit as e:
    sys.stdout.flush()
    if e.message:
      print(e.message, file=sys.stderr)
    sys.exit(e.code)
