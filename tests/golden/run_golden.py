#!/usr/bin/python3
"""Golden tests: the `llama4 eval` logits against the independent numpy reference.

For every configuration in configs.py: build the fixture checkpoint in a temporary directory,
compute the reference logits, run

  $LLAMA4_BIN eval -m DIR --ids 1,2,3 --logits OUT.npy [-t N]                    (one prefill)
  $LLAMA4_BIN eval -m DIR --ids 1,2,3 --logits OUT.npy --decode-from K [-t N]    (prefill K ids,
                                                                                  then one at a time)

and require max|engine - reference| <= 1e-4 * max|reference| over the float32 [T, V] logits.
With --kv-type bf16 the engine keeps a bf16 KV cache and the reference rounds its keys and values
the same way; the tolerance is then 1e-3 (a key within float32 noise of a bf16 rounding midpoint may
round the other way), and the engine must also be ten times closer to that reference than to the
f32-cache one, so the rounding is shown to happen.
One line per check, then `golden: N passed, M failed`; the exit status is non-zero on any failure.
The reference self-checks run first (skip with --no-selfcheck).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

_TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(_TESTS_DIR, "reference"))
sys.path.insert(0, os.path.join(_TESTS_DIR, "fixtures"))
sys.path.insert(0, os.path.join(_TESTS_DIR, "golden"))
import configs  # noqa: E402
import llama4_ref  # noqa: E402
import make_fixture  # noqa: E402

RELATIVE_TOLERANCE = 1e-4        # of max|reference logit|
BF16_KV_RELATIVE_TOLERANCE = 1e-3
BF16_KV_SEPARATION = 10          # engine-to-f32-reference error / engine-to-bf16-reference error
MIN_ROUTER_MARGIN = 1e-4         # closer top-k logits could flip between float32 and float64
ENGINE_TIMEOUT_S = 300


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.worst = (0.0, "")  # (relative error, check)

    def record(self, name, mode, ok, detail):
        print(f"{name:32s} {mode:16s} {detail} {'PASS' if ok else 'FAIL'}", flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1


def engine_logits(binary, model_dir, ids, out_path, decode_from, threads, kv_type):
    """Runs `llama4 eval`; returns (logits or None, error message)."""
    cmd = [binary, "eval", "-m", model_dir, "--ids", ",".join(str(t) for t in ids), "--logits", out_path,
           "--kv-type", kv_type]
    if decode_from is not None:
        cmd += ["--decode-from", str(decode_from)]
    if threads:
        cmd += ["-t", str(threads)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=ENGINE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {ENGINE_TIMEOUT_S}s: {' '.join(cmd)}"
    except OSError as e:
        return None, f"cannot run {binary}: {e}"
    if proc.returncode != 0:
        return None, f"exit {proc.returncode}: {' '.join(cmd)}\n{proc.stderr.strip()[-2000:]}"
    try:
        return np.load(out_path), ""
    except (OSError, ValueError) as e:
        return None, f"cannot read {out_path}: {e}"


def compare(results, name, mode, reference, logits, error, relative_tolerance=RELATIVE_TOLERANCE, f32_kv_reference=None):
    scale = float(np.abs(reference).max())
    tolerance = relative_tolerance * scale
    if logits is None:
        results.record(name, mode, False, f"engine failed: {error}")
        return
    if logits.shape != reference.shape:
        results.record(name, mode, False, f"shape {list(logits.shape)}, expected {list(reference.shape)}")
        return
    if logits.dtype != np.float32:
        results.record(name, mode, False, f"dtype {logits.dtype}, expected float32")
        return
    if not np.all(np.isfinite(logits)):
        results.record(name, mode, False, "non-finite logits")
        return
    err = float(np.abs(logits.astype(np.float64) - reference).max())
    rel = err / scale
    if rel > results.worst[0]:
        results.worst = (rel, f"{name} {mode}")
    worst_row = int(np.abs(logits - reference).max(axis=1).argmax())
    detail = f"max_err={err:.3e} tol={tolerance:.3e} rel={rel:.2e} (worst position {worst_row})"
    ok = err <= tolerance
    if f32_kv_reference is not None:
        f32_err = float(np.abs(logits.astype(np.float64) - f32_kv_reference).max())
        ok = ok and f32_err >= BF16_KV_SEPARATION * err
        detail += f" err_vs_f32_cache={f32_err:.3e}"
    results.record(name, mode, ok, detail)


def run_config(entry, binary, threads, keep_dir, results, kv_type="f32"):
    name = entry["name"]
    work = tempfile.mkdtemp(prefix=f"golden-{name}-")
    model_dir = os.path.join(keep_dir, name) if keep_dir else os.path.join(work, "model")
    try:
        make_fixture.make_golden_fixture(model_dir, entry)
        reference, stats = llama4_ref.forward_with_stats(model_dir, entry["ids"], kv_type)
        margin = stats.get("min_router_margin", np.inf)
        if margin < MIN_ROUTER_MARGIN:
            results.record(name, "config", False, f"fragile fixture: top-k router margin {margin:.1e}; change seed")
            return
        if keep_dir:
            np.save(os.path.join(model_dir, "reference_logits.npy"), reference.astype(np.float32))
            with open(os.path.join(model_dir, "ids.txt"), "w") as f:
                f.write(",".join(str(t) for t in entry["ids"]) + "\n")
        checks = {}
        if kv_type != "f32":
            checks = {"relative_tolerance": BF16_KV_RELATIVE_TOLERANCE,
                      "f32_kv_reference": llama4_ref.forward(model_dir, entry["ids"])}
        for split in [None] + entry["splits"]:
            mode = "prefill" if split is None else f"decode-from {split}"
            if kv_type != "f32":
                mode += f" kv {kv_type}"
            out_path = os.path.join(work, f"logits-{split}.npy")
            logits, error = engine_logits(binary, model_dir, entry["ids"], out_path, split, threads, kv_type)
            compare(results, name, mode, reference, logits, error, **checks)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def list_configs():
    for e in configs.CONFIGS:
        cfg = e["cfg"]
        print(f"{e['name']:32s} T={len(e['ids']):3d} V={cfg['vocab_size']:3d} L={cfg.get('num_hidden_layers', 4)} "
              f"{e['dtype']:4s} {e['layout']:10s} {e['expert_layout']:10s} shards={e['shards']} splits={e['splits']}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("LLAMA4_BIN"), help="llama4 binary (default: $LLAMA4_BIN)")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only these configurations (repeatable, or comma-separated)")
    parser.add_argument("--list", action="store_true", help="list the configurations and exit")
    parser.add_argument("--names", action="store_true", help="print the configuration names, one per line")
    parser.add_argument("--keep", metavar="DIR", help="write the fixtures (with reference_logits.npy, ids.txt) under DIR and keep them")
    parser.add_argument("-t", "--threads", type=int, default=0, help="pass -t N to llama4 eval (0: don't)")
    parser.add_argument("--kv-type", choices=["f32", "bf16"], default="f32",
                        help="KV cache type of the engine (and rounding of the reference's keys and values)")
    parser.add_argument("--no-selfcheck", action="store_true", help="skip the reference self-checks")
    args = parser.parse_args(argv)

    if args.list:
        list_configs()
        return 0
    if args.names:
        print("\n".join(e["name"] for e in configs.CONFIGS))
        return 0
    entries = configs.CONFIGS
    if args.only:
        names = [n for item in args.only for n in item.split(",") if n]
        entries = [configs.by_name(n) for n in names]
    if not args.bin:
        print("golden: no llama4 binary: set LLAMA4_BIN or pass --bin", file=sys.stderr)
        return 2
    if not args.no_selfcheck:
        llama4_ref.selfcheck()
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)

    results = Results()
    for entry in entries:
        run_config(entry, args.bin, args.threads, args.keep, results, args.kv_type)
    print(f"golden: {results.passed} passed, {results.failed} failed")
    if results.worst[1]:
        print(f"golden: largest relative error {results.worst[0]:.2e} ({results.worst[1]})")
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
