#!/usr/bin/python3
"""End-to-end check of `llama4 quantize`: quantizes a bf16 golden fixture to 8 and 4 bits (and
rewrites it unquantized with --bits 16), checks
the file layout and the packed bits against an independent numpy port of the quantizer (mlx's
scales and biases, levels chosen against their bf16 values), and
compares the logits of the quantized models with the original's — with f32 activations against
the numpy reference on the dequantized weights, and with `--activations int8` and `int16` against
the same reference whose quantized products round their inputs to integers per block of 32 as the
engine does.

Usage: quantize_roundtrip.py LLAMA4_BIN   (exit status 0 when every check passes)
"""

import json
import os
import struct
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
import safetensors_io  # noqa: E402

FIXTURE = "bf16_weights"           # Scout-like, bf16, HF fused experts, multimodal layout
IDS = [3, 17, 42, 99, 5, 150, 7, 64, 12, 199, 33, 8]
# Logits of the quantized model against the original's, as a fraction of max|logit|. On this tiny
# random model a weight error of ~0.5% (8 bits) can flip a token's top-1 expert, which moves its
# logits by several percent, so these bounds are loose; the quantizer's own accuracy is checked on
# a model whose tokens use every expert (nothing to flip): 8 bits within 1.5% there.
MAX_RELATIVE_ERROR = {8: 0.1, 4: 0.4}
ACCURACY_FIXTURE = "top_k_all_experts"
MAX_8BIT_ERROR_WITHOUT_ROUTING = 0.015
# The same logits measured as a whole: the norm of the difference against the norm of the bf16
# model's logits (every position and token). It reads 1.2% like the largest difference above, so
# the error is spread evenly, not a few outliers: the format's own noise (docs/PERFORMANCE.md,
# "Accuracy of 4/8-bit weights").
MAX_8BIT_RELATIVE_ERROR = 0.015
# With the attention projections and embeddings left unquantized (--keep embeddings,attention)
# the same error reads 0.44%: on this fixture the attention path carries most of it.
MAX_8BIT_KEPT_ATTENTION_ERROR = 0.01
# --activations int8 against the numpy reference rounding alike. Rounding to int8 is discontinuous:
# on these tiny models, perturbing the reference's activations by 1e-7 (relative) flips a few
# levels and moves the logits by ~1e-2 of max|logit|, so the engine (f32 activations) and the
# reference (float64) cannot agree to 1e-4 here; the kernel itself is checked exactly against a
# scalar model on identical inputs in linear_test.cpp.
# With 16-bit activations a flipped level moves its input by 2^-15 of its block's largest, not
# 2^-7, and the engine must match the reference rounding alike, and the f32 one, far more closely.
INTEGER_END_TO_END_TOLERANCE = {"int8": 0.08,    # measured 1.6-5.3% on the three formats below
                                "int16": 1e-3}
TOP_LEVEL = {"int8": 127, "int16": 127 * 256}   # activations round to [-top, top] per block
INT16_TO_F32_TOLERANCE = 1e-3                     # int16 logits against the f32 reference
WIDE_ACTIVATION_BLOCK = 64                # inputs sharing one activation scale where the
NARROW_ACTIVATION_BLOCK = 32              # weight group is a multiple of 64, and otherwise
ENGINE_TOLERANCE = 1e-4                   # engine vs numpy reference on the dequantized weights
PREFIX = "language_model.model.layers.0."


def read_raw_safetensors(path):
    """name -> (dtype string, numpy array of the stored integers/floats, no conversion)."""
    storage = {"U32": "<u4", "BF16": "<u2", "F16": "<f2", "F32": "<f4"}
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = np.frombuffer(data[8 + header_len + begin:8 + header_len + end], dtype=storage[info["dtype"]])
        out[name] = (info["dtype"], raw.reshape(info["shape"]))
    return out


def to_f32(dtype, raw):
    return safetensors_io.bf16_bits_to_float32(raw) if dtype == "BF16" else raw.astype(np.float32)


def mlx_quantize(w, bits, group_size, stored="bf16"):
    """Independent numpy port of the quantizer: mlx's affine scales and biases (float32), rounded to
    the dtype they are stored in, and the levels chosen against those stored values."""
    w = w.astype(np.float32).reshape(w.shape[0], -1, group_size)
    n_bins = np.float32((1 << bits) - 1)
    w_max, w_min = w.max(axis=-1, keepdims=True), w.min(axis=-1, keepdims=True)
    mask = np.abs(w_min) > np.abs(w_max)
    scale = np.maximum((w_max - w_min) / n_bins, np.float32(1e-7))
    scale = np.where(mask, scale, -scale).astype(np.float32)
    edge = np.where(mask, w_min, w_max)
    q0 = np.rint(edge / scale)
    scale = np.where(q0 != 0, edge / np.where(q0 != 0, q0, 1), scale).astype(np.float32)
    bias = np.where(q0 != 0, edge, np.float32(0)).astype(np.float32)
    scale, bias = safetensors_io.round_to_dtype(scale, stored), safetensors_io.round_to_dtype(bias, stored)
    nonzero = scale != 0
    levels = np.where(nonzero, np.rint((w - bias) / np.where(nonzero, scale, 1)), 0)
    q = np.clip(levels, 0, n_bins).astype(np.uint64).reshape(w.shape[0], -1)
    per_word = 32 // bits
    q = q.reshape(q.shape[0], -1, per_word)
    shifts = (np.arange(per_word, dtype=np.uint64) * bits)
    packed = (q << shifts).sum(axis=-1).astype(np.uint32)
    return packed, scale[..., 0], bias[..., 0]


def unpack(packed, bits):
    per_word = 32 // bits
    shifts = np.arange(per_word, dtype=np.uint32) * bits
    return ((packed[..., None] >> shifts) & ((1 << bits) - 1)).reshape(*packed.shape[:-1], -1)


def write_dequantized(tensors, config, out_dir):
    """A float32 checkpoint holding exactly the weights a quantized folder represents."""
    dense = {}
    for name, (dtype, raw) in tensors.items():
        if name.endswith(".scales") or name.endswith(".biases"):
            continue
        if dtype != "U32":
            dense[name] = to_f32(dtype, raw)
            continue
        base = name[:-len(".weight")]
        (s_dtype, s), (b_dtype, b) = tensors[base + ".scales"], tensors[base + ".biases"]
        bits = config["quantization"]["bits"]
        q = unpack(raw, bits).astype(np.float32)
        group = q.shape[-1] // s.shape[-1]
        q = q.reshape(*s.shape, group)
        dense[name] = (q * to_f32(s_dtype, s)[..., None] + to_f32(b_dtype, b)[..., None]).reshape(*s.shape[:-1], -1)
    os.makedirs(out_dir)
    config = {k: v for k, v in config.items() if k not in ("quantization", "quantization_config")}
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f)
    safetensors_io.write_safetensors(os.path.join(out_dir, "model.safetensors"), dense, dtype="F32")


class IntegerActivationLinear:
    """A quantized linear ([out, in]: levels, per-group scales and biases) as the engine applies it
    with --activations int8 (top = 127) or int16 (top = 32512): each token's inputs (f32) are cut
    into blocks of 32, scaled by max|x|/top and rounded to integers (ties to even); the products of
    levels and rounded inputs are exact integers, scaled by the block's and the group's scales; the
    biases meet the exact sums of x. Supports what the reference uses: x @ W.T, W @ x and W[rows]
    (dequantized rows)."""

    __array_ufunc__ = None  # lets `ndarray @ W.T` fall through to __rmatmul__

    def __init__(self, levels, scales, biases, top):
        self.levels, self.scales, self.biases, self.top = levels, scales, biases, top
        self.group = levels.shape[-1] // scales.shape[-1]

    @property
    def T(self):
        return _Transposed(self)

    def __getitem__(self, rows):
        deq = self.levels.reshape(*self.scales.shape, self.group) * self.scales[..., None] + self.biases[..., None]
        return deq.reshape(self.levels.shape)[rows]

    def __matmul__(self, x):
        return self.apply(x)

    def apply(self, x):
        x = np.asarray(x)
        x32 = x.astype(np.float32).reshape(-1, x.shape[-1])
        n, width = x32.shape
        block = WIDE_ACTIVATION_BLOCK if self.group % WIDE_ACTIVATION_BLOCK == 0 else NARROW_ACTIVATION_BLOCK
        blocks = x32.reshape(n, width // block, block)
        scale = np.abs(blocks).max(axis=-1) / np.float32(self.top)
        safe = np.where(scale == 0, np.float32(1), scale).astype(np.float32)
        rounded = np.where(scale[..., None] == 0, 0.0, np.rint(blocks / safe[..., None]))
        rounded = np.clip(rounded, -self.top, self.top)
        out = self.levels.shape[0]
        products = np.einsum("nbj,obj->nob", rounded, self.levels.reshape(out, -1, block))
        block_weight_scale = np.repeat(self.scales, self.group // block, axis=1)
        y = (products * scale.astype(np.float64)[:, None, :] * block_weight_scale[None]).sum(axis=-1)
        group_sums = x32.astype(np.float64).reshape(n, -1, self.group).sum(axis=-1)
        y += group_sums @ self.biases.T
        return y.reshape(*x.shape[:-1], out)


class _Transposed:
    __array_ufunc__ = None

    def __init__(self, linear):
        self.linear = linear

    def __rmatmul__(self, x):
        return self.linear.apply(x)


def integer_activation_weights(tensors, config, model_dir, top):
    """llama4_ref's weight structure for a quantized folder, every quantized linear replaced by an
    IntegerActivationLinear rounding to `top` (float tensors as the reference loads them)."""
    cfg = llama4_ref.load_text_config(model_dir)
    plan = llama4_ref.layer_plan(cfg)
    model = llama4_ref.load_weights(model_dir, cfg, plan)
    bits = config["quantization"]["bits"]
    prefix = "language_model." if any(n.startswith("language_model.") for n in tensors) else ""

    def linear(name, original):
        base = prefix + name
        if base + ".scales" not in tensors:
            return original
        (_, raw), (s_dtype, s), (b_dtype, b) = (tensors[base + k] for k in (".weight", ".scales", ".biases"))
        levels = unpack(raw, bits).astype(np.float64)
        scales, biases = to_f32(s_dtype, s).astype(np.float64), to_f32(b_dtype, b).astype(np.float64)
        if levels.ndim == 3:  # mlx's stacked experts
            return [IntegerActivationLinear(levels[e], scales[e], biases[e], top)
                    for e in range(levels.shape[0])]
        return IntegerActivationLinear(levels, scales, biases, top)

    model["embed"] = linear("model.embed_tokens", model["embed"])
    model["lm_head"] = model["embed"] if cfg["tie_word_embeddings"] else linear("lm_head", model["lm_head"])
    for i, layer in enumerate(model["layers"]):
        p = f"model.layers.{i}."
        for n in ("q", "k", "v", "o"):
            layer[n] = linear(p + f"self_attn.{n}_proj", layer[n])
        ff = p + "feed_forward."
        if "dense" in layer:
            layer["dense"] = tuple(linear(ff + f"{n}_proj", w) for n, w in zip(("gate", "up", "down"), layer["dense"]))
            continue
        layer["router"] = linear(ff + "router", layer["router"])
        layer["shared"] = tuple(linear(ff + f"shared_expert.{n}_proj", w)
                                for n, w in zip(("gate", "up", "down"), layer["shared"]))
        original = list(zip(*layer["experts"]))  # (gates, ups, downs), float
        stacked = [linear(ff + f"experts.{n}_proj", list(w)) for n, w in zip(("gate", "up", "down"), original)]
        layer["experts"] = list(zip(*stacked))
    return model


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")


def logits(binary, model_dir, out_path, activations="f32", ids=IDS):
    run([binary, "eval", "-m", model_dir, "--ids", ",".join(map(str, ids)), "--logits", out_path,
         "--activations", activations])
    return np.load(out_path)


def check_8bit_accuracy_without_routing(binary, tmp, check):
    """8-bit logits against the bf16 original on a model whose every token uses every expert."""
    entry = dict(configs.by_name(ACCURACY_FIXTURE), dtype="bf16")
    source = os.path.join(tmp, ACCURACY_FIXTURE)
    make_fixture.make_golden_fixture(source, entry)
    ids = entry["ids"]
    reference = logits(binary, source, source + ".npy", ids=ids)
    relative_errors = {}
    # (group size, what --keep leaves unquantized)
    for group, keep in ((32, ""), (64, ""), (64, "embeddings"), (64, "embeddings,attention")):
        out = f"{source}-q8g{group}" + (f"-kept-{keep}" if keep else "")
        label = f"{ACCURACY_FIXTURE} q8g{group}" + (f" --keep {keep}" if keep else "")
        # The older spelling --keep-embeddings for the embeddings alone.
        keep_options = ["--keep-embeddings"] if keep == "embeddings" else ["--keep", keep] if keep else []
        run([binary, "quantize", "-m", source, "-o", out, "--bits", "8", "--group-size", str(group)]
            + keep_options)
        quantized = logits(binary, out, out + ".npy", ids=ids)
        error = float(np.abs(quantized - reference).max()) / float(np.abs(reference).max())
        check(error <= MAX_8BIT_ERROR_WITHOUT_ROUTING,
              f"{label}: logits max error {error:.4f} of max|logit| (limit {MAX_8BIT_ERROR_WITHOUT_ROUTING})")
        relative = float(np.linalg.norm(quantized - reference)) / float(np.linalg.norm(reference))
        limit = MAX_8BIT_KEPT_ATTENTION_ERROR if "attention" in keep else MAX_8BIT_RELATIVE_ERROR
        check(relative <= limit, f"{label}: logits relative error |q - r| / |r| {relative:.4f} (limit {limit})")
        relative_errors[(group, keep)] = relative
        if keep:
            check_kept_tensors(os.path.join(out, "model.safetensors"), keep, check)
    for fewer, more in (("", "embeddings"), ("embeddings", "embeddings,attention")):
        check(relative_errors[(64, more)] < relative_errors[(64, fewer)],
              f"--keep {more} brings the 8-bit logits closer than --keep {fewer or '(nothing)'}: "
              f"{relative_errors[(64, more)]:.4f} against {relative_errors[(64, fewer)]:.4f}")


def check_kept_tensors(path, keep, check):
    """The parts --keep names stay bf16 without scales; the rest is quantized."""
    tensors = read_raw_safetensors(path)
    kept_suffixes = {"embeddings": ("embed_tokens.weight", "lm_head.weight"),
                     "attention": tuple(f"self_attn.{p}_proj.weight" for p in "qkvo")}
    parts = keep.split(",")
    for part, suffixes in kept_suffixes.items():
        names = [n for n in tensors if n.endswith(suffixes)]
        stays = part in parts
        check(len(names) >= 2 and all((tensors[n][0] == "BF16") == stays for n in names),
              f"--keep {keep}: {part} ({len(names)} tensors) {'stay bf16' if stays else 'are quantized'}")
        has_scales = any(n.endswith(s.replace(".weight", ".scales")) for n in tensors for s in suffixes)
        check(has_scales != stays, f"--keep {keep}: {part} {'without' if stays else 'with'} scales")
    check(tensors[PREFIX + "feed_forward.shared_expert.gate_proj.weight"][0] == "U32",
          f"--keep {keep}: the shared expert is quantized")


def check_unquantized_rewrite(binary, source, original, reference, tmp, check):
    """--bits 16: nothing quantized, the fused experts rewritten in mlx's [E, out, in] layout
    bit for bit, every other tensor and config.json as they were, and the same logits."""
    out = os.path.join(tmp, "bf16-mlx-layout")
    run([binary, "quantize", "-m", source, "-o", out, "--bits", "16"])
    with open(os.path.join(source, "config.json")) as f_in, open(os.path.join(out, "config.json")) as f_out:
        check(json.load(f_in) == json.load(f_out), "16-bit: config.json unchanged (no quantization)")
    check(os.path.exists(os.path.join(out, "tokenizer_config.json")), "16-bit: tokenizer files copied")
    tensors = read_raw_safetensors(os.path.join(out, "model.safetensors"))
    source_tensors = read_raw_safetensors(os.path.join(source, "model.safetensors"))
    check(all(dtype == "BF16" for dtype, _ in tensors.values()), "16-bit: every tensor stays bf16")
    experts = PREFIX + "feed_forward.experts."
    (_, gate_up), (_, down) = source_tensors[experts + "gate_up_proj"], source_tensors[experts + "down_proj"]
    width = gate_up.shape[2] // 2
    expected = {"gate_proj": gate_up[:, :, :width], "up_proj": gate_up[:, :, width:], "down_proj": down}
    for name, stored_in_major in expected.items():
        _, got = tensors[experts + name + ".weight"]
        check(np.array_equal(got, stored_in_major.transpose(0, 2, 1)),
              f"16-bit: {name} = the fused tensor's [E, in, out] transposed, bit for bit")
    rewritten = ("experts.gate_up_proj", "experts.down_proj")  # every layer's
    text = [n for n in source_tensors if n.startswith("language_model.") and not n.endswith(rewritten)]
    check(all(n in tensors and np.array_equal(tensors[n][1], source_tensors[n][1]) for n in text),
          f"16-bit: the other {len(text)} text tensors copied as stored (the vision tower left out)")
    got = logits(binary, out, os.path.join(tmp, "bf16-mlx-layout.npy"))
    expected_logits = llama4_ref.forward(source, IDS)
    error = float(np.abs(got - expected_logits).max()) / float(np.abs(expected_logits).max())
    check(error <= ENGINE_TOLERANCE, f"16-bit: logits vs numpy reference on the original {error:.2e} of max|logit|")
    distance = float(np.abs(got - reference).max()) / float(np.abs(reference).max())
    check(distance <= ENGINE_TOLERANCE, f"16-bit: logits vs the original's {distance:.2e} of max|logit|")
    refused = subprocess.run([binary, "quantize", "-m", source, "-o", out + "-12", "--bits", "12"],
                             capture_output=True, text=True)
    check(refused.returncode != 0 and "--bits 12" in refused.stderr and "4, 8 or 16" in refused.stderr,
          f"--bits 12 refused naming the flag, the value and the choices: {refused.stderr.strip()!r}")


def main():
    binary = sys.argv[1]
    failures = []

    def check(ok, message):
        print(("PASS " if ok else "FAIL ") + message, flush=True)
        if not ok:
            failures.append(message)

    entry = next(e for e in configs.CONFIGS if e["name"] == FIXTURE)
    with tempfile.TemporaryDirectory(prefix="quantize-") as tmp:
        source = os.path.join(tmp, "bf16")
        original = make_fixture.make_golden_fixture(source, entry)
        with open(os.path.join(source, "tokenizer_config.json"), "w") as f:
            f.write("{}\n")
        reference = logits(binary, source, os.path.join(tmp, "bf16.npy"))
        scale = float(np.abs(reference).max())
        for bits, group in ((8, 32), (4, 32), (4, 64)):
            out = os.path.join(tmp, f"q{bits}g{group}")
            run([binary, "quantize", "-m", source, "-o", out, "--bits", str(bits), "--group-size", str(group)])
            config = json.load(open(os.path.join(out, "config.json")))
            check(config.get("quantization") == {"group_size": group, "bits": bits},
                  f"q{bits}g{group}: config.json quantization = {config.get('quantization')}")
            check(os.path.exists(os.path.join(out, "tokenizer_config.json")), f"q{bits}g{group}: tokenizer files copied")
            tensors = read_raw_safetensors(os.path.join(out, "model.safetensors"))

            # A plain linear: exact bits and scales of mlx's algorithm.
            name = PREFIX + "self_attn.q_proj"
            w = original[name + ".weight"]
            packed, scales, biases = mlx_quantize(w, bits, group)
            dtype, stored = tensors[name + ".weight"]
            check(dtype == "U32" and stored.shape == packed.shape and np.array_equal(stored, packed),
                  f"q{bits}g{group}: {name}.weight packed words equal the numpy mlx port")
            s_dtype, s = tensors[name + ".scales"]
            b_dtype, b = tensors[name + ".biases"]
            check(s_dtype == "BF16" and b_dtype == "BF16", f"q{bits}g{group}: scales/biases stored as the source dtype")
            check(np.array_equal(to_f32(s_dtype, s), scales) and np.array_equal(to_f32(b_dtype, b), biases),
                  f"q{bits}g{group}: scales and biases equal the numpy port (mlx's, bf16-rounded)")
            levels = unpack(stored, bits).reshape(w.shape[0], -1, group)
            dequantized = (levels * to_f32(s_dtype, s)[..., None] + to_f32(b_dtype, b)[..., None]).reshape(w.shape)
            step = np.repeat(np.abs(to_f32(s_dtype, s)), group, axis=-1)
            # Interior levels (the ends may be clamped when the edge snaps onto a level): the levels
            # were chosen against the stored bf16 scale and bias, so no rounding error adds up.
            interior = ((levels > 0) & (levels < (1 << bits) - 1)).reshape(w.shape)
            bound = 0.5 * step * 1.001 + 1e-6
            check(np.all(np.abs(dequantized - w)[interior] <= bound[interior]),
                  f"q{bits}g{group}: dequantized q_proj within half a step of the original")

            # Fused experts become mlx's stacked per-expert layout.
            gate_up = original[PREFIX + "feed_forward.experts.gate_up_proj"]
            experts, hidden, width = gate_up.shape[0], gate_up.shape[1], gate_up.shape[2] // 2
            dtype, gate = tensors[PREFIX + "feed_forward.experts.gate_proj.weight"]
            check(list(gate.shape) == [experts, width, hidden * bits // 32],
                  f"q{bits}g{group}: experts.gate_proj.weight shape {list(gate.shape)}")
            expected_gate, _, _ = mlx_quantize(gate_up[1, :, :width].T.copy(), bits, group)
            check(np.array_equal(gate[1], expected_gate), f"q{bits}g{group}: expert 1 gate = columns [0, I) transposed")
            check(PREFIX + "input_layernorm.weight" in tensors and tensors[PREFIX + "input_layernorm.weight"][0] == "BF16",
                  f"q{bits}g{group}: norms kept as stored")

            quantized = logits(binary, out, os.path.join(tmp, f"q{bits}g{group}.npy"))
            dequantized_dir = os.path.join(tmp, f"q{bits}g{group}-dequantized")
            write_dequantized(tensors, config, dequantized_dir)
            expected = llama4_ref.forward(dequantized_dir, IDS)
            engine_error = float(np.abs(quantized - expected).max()) / float(np.abs(expected).max())
            check(engine_error <= ENGINE_TOLERANCE,
                  f"q{bits}g{group}: engine on packed weights vs numpy reference on the dequantized ones: "
                  f"{engine_error:.2e} of max|logit|")
            error = float(np.abs(quantized - reference).max()) / scale
            check(error <= MAX_RELATIVE_ERROR[bits],
                  f"q{bits}g{group}: logits max error {error:.4f} of max|logit| (limit {MAX_RELATIVE_ERROR[bits]})")

            # The same weights with integer activations, prefilled and decoded token by token.
            for activations, top in TOP_LEVEL.items():
                rounded_expected, _ = llama4_ref.forward_with_stats(
                    dequantized_dir, IDS, weights=integer_activation_weights(tensors, config, dequantized_dir, top))
                rounded = logits(binary, out, os.path.join(tmp, f"q{bits}g{group}-{activations}.npy"), activations)
                rounded_error = float(np.abs(rounded - rounded_expected).max()) / float(np.abs(rounded_expected).max())
                f32_distance = float(np.abs(rounded_expected - expected).max()) / float(np.abs(expected).max())
                check(rounded_error <= INTEGER_END_TO_END_TOLERANCE[activations],
                      f"q{bits}g{group}: --activations {activations} vs numpy reference rounding alike: "
                      f"{rounded_error:.2e} of max|logit| (the rounding itself moves the reference by "
                      f"{f32_distance:.2e})")
                if activations == "int16":
                    engine_distance = float(np.abs(rounded - expected).max()) / float(np.abs(expected).max())
                    check(0 < engine_distance <= INT16_TO_F32_TOLERANCE,
                          f"q{bits}g{group}: --activations int16 vs the f32 reference: {engine_distance:.2e} "
                          f"of max|logit|")
                run([binary, "eval", "-m", out, "--ids", ",".join(map(str, IDS)), "--decode-from", "3",
                     "--activations", activations, "--logits", os.path.join(tmp, "decoded.npy")])
                decoded = np.load(os.path.join(tmp, "decoded.npy"))
                check(np.array_equal(decoded, rounded),
                      f"q{bits}g{group}: {activations} activations: decoding token by token equals prefill "
                      f"bit for bit")
        check_unquantized_rewrite(binary, source, original, reference, tmp, check)
        check_8bit_accuracy_without_routing(binary, tmp, check)
    print(f"quantize roundtrip: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
