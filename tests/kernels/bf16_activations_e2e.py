#!/usr/bin/python3
"""End-to-end check of `--activations bf16` on a bf16 model: the engine's logits against the numpy
reference whose every bf16-weight product rounds its inputs to bf16 as the engine does (nearest
even, subnormals to zero), and against the plain f32 reference (close, but not equal: the rounding
happens); decoding token by token equals the prompt's logits bit for bit. Each fixture runs as
written (HF's fused, in-major experts) and rewritten by `llama4 quantize --bits 16` (the same
weights with the experts out-major, which AMX machines multiply on the tile unit).

Usage: bf16_activations_e2e.py LLAMA4_BIN   (exit status 0 when every check passes)
"""

import os
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

# Fixtures: Scout-like with HF fused experts (in-major) and a dense/MoE interleave with tied
# embeddings; both bf16.
FIXTURES = ("bf16_weights", "top_k_all_experts")
# Engine against the reference rounding alike, as a fraction of max|logit|. Rounding to bf16 is
# discontinuous: the engine's f32 activations and the reference's float64 ones differ by ~1e-7,
# and where that puts an input on the other side of a rounding boundary it moves by 2^-8 of
# itself. Inputs are few on these tiny models, so one such flip shows: perturbing the reference's
# own inputs by 1e-7 (relative, before rounding) moves its logits by 1.6e-3 on bf16_weights, the
# very distance the engine measures. The kernels are checked exactly, on identical inputs, in
# bf16_activations_test.cpp; here the rounding-alike reference must be the closer of the two.
MATCHING_TOLERANCE = 4e-3
# The rounding must show against the f32 reference: more than this, and less than the loose bound.
MIN_ROUNDING_EFFECT = 1e-4
MAX_ROUNDING_EFFECT = 5e-2


def round_to_bf16(x):
    """float64 activations → f32 → bf16 (nearest even, subnormals flushed) → float64."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    kept = ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).astype(np.uint32)
    value = kept.view(np.float32).astype(np.float64)
    return np.where(np.abs(value) < np.finfo(np.float32).tiny, 0.0, value)


class Bf16ActivationLinear:
    """A bf16 weight matrix W [out, in] as the engine applies it with --activations bf16: inputs
    rounded to bf16, products and sums exact (float64 here). Supports x @ W.T, W @ x and W[rows]."""

    __array_ufunc__ = None  # lets `ndarray @ W.T` fall through to __rmatmul__

    def __init__(self, weight):
        self.weight = np.asarray(weight, dtype=np.float64)

    @property
    def T(self):
        return _Transposed(self)

    def __getitem__(self, rows):
        return self.weight[rows]

    def __matmul__(self, x):
        return self.weight @ round_to_bf16(x)


class _Transposed:
    __array_ufunc__ = None

    def __init__(self, linear):
        self.linear = linear

    def __rmatmul__(self, x):
        return round_to_bf16(x) @ self.linear.weight.T


def bf16_activation_weights(model_dir):
    """llama4_ref's weights for model_dir with every matrix of a linear layer wrapped."""
    cfg = llama4_ref.load_text_config(model_dir)
    model = llama4_ref.load_weights(model_dir, cfg, llama4_ref.layer_plan(cfg))
    wrap = Bf16ActivationLinear
    if not cfg["tie_word_embeddings"]:
        model["lm_head"] = wrap(model["lm_head"])
    else:  # the embedding rows are read as they are; the head's product rounds its inputs
        model["lm_head"] = wrap(model["embed"])
    for layer in model["layers"]:
        for n in ("q", "k", "v", "o"):
            layer[n] = wrap(layer[n])
        if "dense" in layer:
            layer["dense"] = tuple(wrap(w) for w in layer["dense"])
            continue
        layer["router"] = wrap(layer["router"])
        layer["shared"] = tuple(wrap(w) for w in layer["shared"])
        layer["experts"] = [tuple(wrap(w) for w in expert) for expert in layer["experts"]]
    return model


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")


def main():
    binary = sys.argv[1]
    failures = []

    def check(ok, message):
        print(("PASS " if ok else "FAIL ") + message, flush=True)
        if not ok:
            failures.append(message)

    with tempfile.TemporaryDirectory(prefix="bf16-activations-") as tmp:
        for name in FIXTURES:
            entry = dict(configs.by_name(name), dtype="bf16")
            model_dir = os.path.join(tmp, name)
            make_fixture.make_golden_fixture(model_dir, entry)
            ids = entry["ids"]
            expected, _ = llama4_ref.forward_with_stats(model_dir, ids, weights=bf16_activation_weights(model_dir))
            exact = llama4_ref.forward(model_dir, ids)
            scale = float(np.abs(expected).max())
            rewritten_dir = model_dir + "-experts-out-major"
            run([binary, "quantize", "-m", model_dir, "-o", rewritten_dir, "--bits", "16"])
            for label, engine_dir in ((name, model_dir), (name + " (experts out-major)", rewritten_dir)):
                check_engine(binary, engine_dir, label, ids, expected, exact, scale, check)
    print(f"bf16 activations end to end: {len(failures)} failures")
    return 1 if failures else 0


def check_engine(binary, model_dir, name, ids, expected, exact, scale, check):
    """The engine's bf16-activation logits for `model_dir` against the references."""
    prompt_out, decoded_out = model_dir + "-prompt.npy", model_dir + "-decoded.npy"
    common = [binary, "eval", "-m", model_dir, "--ids", ",".join(map(str, ids)), "--activations", "bf16"]
    run(common + ["--logits", prompt_out])
    run(common + ["--decode-from", "2", "--logits", decoded_out])
    engine, decoded = np.load(prompt_out), np.load(decoded_out)
    error = float(np.abs(engine - expected).max()) / scale
    effect = float(np.abs(engine - exact).max()) / scale
    check(error <= MATCHING_TOLERANCE,
          f"{name}: --activations bf16 vs numpy reference rounding alike: {error:.2e} of max|logit| "
          f"(limit {MATCHING_TOLERANCE})")
    check(error < effect,
          f"{name}: the engine is closer to the reference rounding alike ({error:.2e}) than to "
          f"the f32 one ({effect:.2e})")
    check(MIN_ROUNDING_EFFECT < effect < MAX_ROUNDING_EFFECT,
          f"{name}: --activations bf16 vs the f32 reference: {effect:.2e} of max|logit| "
          f"(the rounding shows, within {MAX_ROUNDING_EFFECT})")
    check(np.array_equal(engine, decoded),
          f"{name}: bf16 activations: decoding token by token equals the prompt bit for bit")


if __name__ == "__main__":
    sys.exit(main())
