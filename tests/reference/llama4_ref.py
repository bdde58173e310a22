#!/usr/bin/python3
"""Independent numpy forward pass of the Llama 4 text model: the judge of the C++ engine.

Written from the semantics of Hugging Face transformers' `modeling_llama4.py` /
`configuration_llama4.py`, computing in float64 from the weights exactly as stored (bf16/f16
values widened without further rounding). It recomputes the whole sequence every call (no cache),
so it cannot share an incremental-decoding bug with the engine.

Deliberate choices where HF leaves something open:
  * attention_chunk_size null: chunked layers fall back to plain causal attention.
  * top-k ties: experts are ranked by descending router logit, ties going to the lower expert
    index (a stable sort). torch.topk does not document its tie order; random weights make exact
    ties practically impossible, and `forward_with_stats` reports the smallest top-k margin seen.
  * head_dim absent from config.json: hidden_size / num_attention_heads (see HF_TEXT_DEFAULTS).
  * RoPE inverse frequencies and llama3 scaling are computed in float64 (HF: float32); the
    difference is far below the golden tolerance for the tiny test models.

Run as a program for the self-checks: `/usr/bin/python3 tests/reference/llama4_ref.py`.
"""

import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

# Defaults of transformers' Llama4TextConfig, used only for fields absent from config.json.
HF_TEXT_DEFAULTS = {
    "vocab_size": 202048,
    "hidden_size": 5120,
    "intermediate_size": 8192,
    "intermediate_size_mlp": 16384,
    "num_hidden_layers": 48,
    "num_attention_heads": 40,
    "num_key_value_heads": 8,
    # Absent head_dim: hidden/heads, as the engine's ModelConfig does. (transformers' class default is
    # 128, which only an explicit null turns into hidden/heads; both give 128 for the released models.)
    "head_dim": None,
    "rms_norm_eps": 1e-5,
    "tie_word_embeddings": False,
    "num_experts_per_tok": 1,
    "num_local_experts": 16,
    "moe_layers": None,
    "interleave_moe_layer_step": 1,
    "use_qk_norm": True,
    "no_rope_layers": None,
    "no_rope_layer_interval": 4,
    "attention_chunk_size": 8192,
    "layer_types": None,
    "attn_temperature_tuning": True,
    "floor_scale": 8192,
    "attn_scale": 0.1,
    "rope_theta": 500000.0,
    "rope_scaling": None,
    "hidden_act": "silu",
}
CHUNKED = "chunked_attention"
FULL = "full_attention"
MULTIMODAL_TEXT_PREFIX = "language_model."


# ----------------------------------------------------------------------------- configuration

def load_text_config(model_dir):
    """config.json -> resolved text config (dict), HF defaults for absent fields."""
    with open(os.path.join(model_dir, "config.json")) as f:
        raw = json.load(f)
    text = raw["text_config"] if "text_config" in raw else raw
    cfg = dict(HF_TEXT_DEFAULTS)
    cfg.update(text)
    if cfg["head_dim"] is None:
        cfg["head_dim"] = cfg["hidden_size"] // cfg["num_attention_heads"]
    if cfg["hidden_act"] != "silu":
        raise ValueError(f"hidden_act={cfg['hidden_act']!r}: only silu is implemented")
    if cfg.get("attention_bias"):
        raise ValueError("attention_bias=true is not implemented")
    cfg["rope"] = resolve_rope(cfg)
    return cfg


def resolve_rope(cfg):
    """{'theta', 'type', 'factor', 'low', 'high', 'original'} from rope_parameters (HF v5) or
    rope_theta + rope_scaling (HF v4)."""
    params = cfg.get("rope_parameters")
    if params is None:
        params = dict(cfg.get("rope_scaling") or {})
        params.setdefault("rope_theta", cfg["rope_theta"])
    rope_type = params.get("rope_type", params.get("type", "default"))
    rope = {"theta": float(params["rope_theta"]), "type": rope_type}
    if rope_type == "llama3":
        rope.update(factor=float(params["factor"]), low=float(params["low_freq_factor"]),
                    high=float(params["high_freq_factor"]),
                    original=float(params["original_max_position_embeddings"]))
    elif rope_type != "default":
        raise ValueError(f"rope_type={rope_type!r}: only default and llama3 are implemented")
    return rope


def layer_plan(cfg):
    """Per layer: use_rope, chunked, qk_norm, temperature, moe (HF Llama4TextConfig rules)."""
    n = cfg["num_hidden_layers"]
    no_rope = cfg["no_rope_layers"]
    if not no_rope:  # None or [] both mean "derive from the interval"
        interval = cfg["no_rope_layer_interval"]
        no_rope = [int((i + 1) % interval != 0) for i in range(n)]
    if len(no_rope) < n:
        raise ValueError(f"no_rope_layers has {len(no_rope)} entries for {n} layers")
    moe_layers = cfg["moe_layers"]
    if moe_layers is None:
        step = cfg["interleave_moe_layer_step"]
        moe_layers = list(range(step - 1, n, step))
    layer_types = cfg["layer_types"]
    if layer_types is None:
        layer_types = [CHUNKED if no_rope[i] else FULL for i in range(n)]
    plan = []
    for i in range(n):
        use_rope = bool(no_rope[i])
        if layer_types[i] not in (CHUNKED, FULL):
            raise ValueError(f"layer_types[{i}]={layer_types[i]!r}")
        plan.append({
            "use_rope": use_rope,
            "chunked": layer_types[i] == CHUNKED and cfg["attention_chunk_size"] is not None,
            "qk_norm": bool(cfg["use_qk_norm"]) and use_rope,
            "temperature": bool(cfg["attn_temperature_tuning"]) and not use_rope,
            "moe": i in moe_layers,
        })
    return plan


# ----------------------------------------------------------------------------- building blocks

def rms_norm(x, weight, eps):
    """x * rsqrt(mean(x^2) + eps) over the last axis, times weight (None: weightless)."""
    y = x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)
    return y if weight is None else y * weight


def silu(x):
    return x / (1.0 + np.exp(-x))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def rope_inverse_frequencies(rope, head_dim):
    """theta_k = base^(-2k/D) for k < D/2, then llama3 scaling (HF _compute_llama3_parameters)."""
    inv_freq = 1.0 / rope["theta"] ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    if rope["type"] != "llama3":
        return inv_freq
    factor, low, high, original = rope["factor"], rope["low"], rope["high"], rope["original"]
    low_freq_wavelen = original / low
    high_freq_wavelen = original / high
    scaled = inv_freq.copy()
    for k, theta in enumerate(inv_freq):
        wavelen = 2.0 * math.pi / theta
        if wavelen < high_freq_wavelen:
            scaled[k] = theta  # high frequency: unchanged
        elif wavelen > low_freq_wavelen:
            scaled[k] = theta / factor  # low frequency: slowed down by the factor
        else:  # the band in between (never reached when low == high, except exactly on the edge)
            smooth = (original / wavelen - low) / (high - low)
            scaled[k] = (1.0 - smooth) * theta / factor + smooth * theta
    return scaled


def apply_rope(x, positions, inv_freq):
    """Rotates consecutive pairs (2k, 2k+1) of the last axis by positions * inv_freq[k].

    x: [T, heads, D]; positions: [T].
    """
    angles = np.asarray(positions, dtype=np.float64)[:, None] * inv_freq[None, :]  # [T, D/2]
    cos = np.cos(angles)[:, None, :]
    sin = np.sin(angles)[:, None, :]
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


def temperature_scales(positions, floor_scale, attn_scale):
    """1 + attn_scale * log1p(floor((p + 1) / floor_scale)) per position."""
    p = np.asarray(positions, dtype=np.float64)
    return 1.0 + attn_scale * np.log1p(np.floor((p + 1.0) / floor_scale))


def attention_allowed(query_pos, key_pos, chunk_size):
    """Visibility: causal (key <= query), and the same chunk of chunk_size (None: global)."""
    causal = key_pos <= query_pos
    if chunk_size is None:
        return causal
    return causal and key_pos // chunk_size == query_pos // chunk_size


def attention_mask(length, chunk_size):
    """[T, T] boolean: entry (p, j) says whether query p may attend to key j."""
    return np.array([[attention_allowed(p, j, chunk_size) for j in range(length)] for p in range(length)])


def swiglu(x, gate, up, down):
    """down(silu(gate x) * up x); weights out-major ([out, in])."""
    return (silu(x @ gate.T) * (x @ up.T)) @ down.T


def top_k_experts(logits, k):
    """Indices of the k largest logits, largest first; ties to the lower index."""
    order = np.argsort(-logits, kind="stable")
    return order[:k]


def moe(x, layer, cfg, stats=None):
    """Llama 4 MoE for rows of x: sigmoid(selected logit) scales each expert's INPUT, plus the
    shared expert on the unscaled input."""
    k = cfg["num_experts_per_tok"]
    experts = layer["experts"]
    out = np.zeros_like(x)
    for t in range(x.shape[0]):
        logits = layer["router"] @ x[t]
        chosen = top_k_experts(logits, k)
        if stats is not None and k < len(logits):
            ranked = np.sort(logits)[::-1]
            stats["min_router_margin"] = min(stats.get("min_router_margin", np.inf), ranked[k - 1] - ranked[k])
        total = swiglu(x[t], *layer["shared"])
        for e in chosen:
            total = total + swiglu(sigmoid(logits[e]) * x[t], *experts[e])
        out[t] = total
    return out


def attention(x, layer, spec, cfg, inv_freq, kv_dtype="f32"):
    """One attention block on the normed input x [T, H]; returns o_proj output [T, H].

    kv_dtype "bf16" rounds keys and values (after RoPE and qk-norm, as a cache stores them) to
    bfloat16, as an engine with a bf16 KV cache does."""
    length = x.shape[0]
    heads, kv_heads, head_dim = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    positions = np.arange(length)
    q = (x @ layer["q"].T).reshape(length, heads, head_dim)
    k = (x @ layer["k"].T).reshape(length, kv_heads, head_dim)
    v = (x @ layer["v"].T).reshape(length, kv_heads, head_dim)
    if spec["use_rope"]:
        q = apply_rope(q, positions, inv_freq)
        k = apply_rope(k, positions, inv_freq)
    if spec["qk_norm"]:  # per head, no weight, after RoPE
        q = rms_norm(q, None, cfg["rms_norm_eps"])
        k = rms_norm(k, None, cfg["rms_norm_eps"])
    if kv_dtype != "f32":
        k = safetensors_io.round_to_dtype(k, kv_dtype).astype(np.float64)
        v = safetensors_io.round_to_dtype(v, kv_dtype).astype(np.float64)
    if spec["temperature"]:  # queries only
        q = q * temperature_scales(positions, cfg["floor_scale"], cfg["attn_scale"])[:, None, None]
    allowed = attention_mask(length, cfg["attention_chunk_size"] if spec["chunked"] else None)
    group = heads // kv_heads
    out = np.zeros((length, heads, head_dim))
    for h in range(heads):
        kv = h // group
        scores = (q[:, h, :] @ k[:, kv, :].T) * head_dim ** -0.5
        scores = np.where(allowed, scores, -np.inf)
        scores = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=1, keepdims=True)
        out[:, h, :] = probs @ v[:, kv, :]
    return out.reshape(length, heads * head_dim) @ layer["o"].T


# ----------------------------------------------------------------------------- weights

def _expert_weights(tensors, prefix, num_experts):
    """[(gate [I,H], up [I,H], down [H,I])] per expert from any of the three stored layouts."""
    if prefix + "gate_up_proj" in tensors:  # HF fused, used as x @ W
        gate_up = tensors[prefix + "gate_up_proj"]  # [E, H, 2I], gate first
        down = tensors[prefix + "down_proj"]  # [E, I, H]
        width = gate_up.shape[2] // 2
        return [(gate_up[e, :, :width].T, gate_up[e, :, width:].T, down[e].T) for e in range(num_experts)]
    if prefix + "gate_proj.weight" in tensors:  # mlx stacks, out-major
        g, u, d = (tensors[prefix + f"{n}_proj.weight"] for n in ("gate", "up", "down"))
        return [(g[e], u[e], d[e]) for e in range(num_experts)]
    return [tuple(tensors[prefix + f"{e}.{n}_proj.weight"] for n in ("gate", "up", "down"))
            for e in range(num_experts)]


def load_weights(model_dir, cfg, plan):
    """Reads the text weights (float64) into a per-layer structure."""
    stored = safetensors_io.read_checkpoint(model_dir)
    has_prefix = any(n.startswith(MULTIMODAL_TEXT_PREFIX) for n in stored)
    tensors = {}
    for name, values in stored.items():
        if has_prefix:
            if not name.startswith(MULTIMODAL_TEXT_PREFIX):
                continue  # vision tower / projector
            name = name[len(MULTIMODAL_TEXT_PREFIX):]
        tensors[name] = values.astype(np.float64)
    model = {"embed": tensors["model.embed_tokens.weight"], "norm": tensors["model.norm.weight"], "layers": []}
    model["lm_head"] = model["embed"] if cfg["tie_word_embeddings"] else tensors["lm_head.weight"]
    for i, spec in enumerate(plan):
        p = f"model.layers.{i}."
        layer = {
            "input_norm": tensors[p + "input_layernorm.weight"],
            "post_norm": tensors[p + "post_attention_layernorm.weight"],
            **{n: tensors[p + f"self_attn.{n}_proj.weight"] for n in ("q", "k", "v", "o")},
        }
        ff = p + "feed_forward."
        if spec["moe"]:
            layer["router"] = tensors[ff + "router.weight"]
            layer["shared"] = tuple(tensors[ff + f"shared_expert.{n}_proj.weight"] for n in ("gate", "up", "down"))
            layer["experts"] = _expert_weights(tensors, ff + "experts.", cfg["num_local_experts"])
        else:
            layer["dense"] = tuple(tensors[ff + f"{n}_proj.weight"] for n in ("gate", "up", "down"))
        model["layers"].append(layer)
    return model


# ----------------------------------------------------------------------------- model

def forward_with_stats(model_dir, ids, kv_dtype="f32", weights=None):
    """(logits [T, V] float64, stats) for token ids; stats holds min_router_margin when top-k < E.
    kv_dtype: the precision keys and values are kept in ("f32" or "bf16"; see attention()).
    weights: the structure load_weights returns, possibly with matrices replaced by objects that
    support `x @ W.T`, `W @ x` and `W[rows]` (default: load_weights on model_dir)."""
    cfg = load_text_config(model_dir)
    plan = layer_plan(cfg)
    model = weights if weights is not None else load_weights(model_dir, cfg, plan)
    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 1 or ids.size == 0 or ids.min() < 0 or ids.max() >= cfg["vocab_size"]:
        raise ValueError(f"ids must be a non-empty list of tokens in [0, {cfg['vocab_size']})")
    inv_freq = rope_inverse_frequencies(cfg["rope"], cfg["head_dim"])
    eps = cfg["rms_norm_eps"]
    stats = {}
    h = model["embed"][ids]
    for spec, layer in zip(plan, model["layers"]):
        h = h + attention(rms_norm(h, layer["input_norm"], eps), layer, spec, cfg, inv_freq, kv_dtype)
        x = rms_norm(h, layer["post_norm"], eps)
        h = h + (moe(x, layer, cfg, stats) if spec["moe"] else swiglu(x, *layer["dense"]))
    return rms_norm(h, model["norm"], eps) @ model["lm_head"].T, stats


def forward(model_dir, ids):
    """Logits [T, V] (float64) for the token ids, every position."""
    return forward_with_stats(model_dir, ids)[0]


def greedy(model_dir, ids, n):
    """The n greedy continuation ids (argmax, ties to the lower id), recomputing from scratch."""
    tokens = list(ids)
    out = []
    for _ in range(n):
        next_id = int(np.argmax(forward(model_dir, tokens)[-1]))
        out.append(next_id)
        tokens.append(next_id)
    return out


# ----------------------------------------------------------------------------- self-checks

def _check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"  ok  {what}")


def _selfcheck_blocks():
    rng = np.random.default_rng(1)
    # RoPE: identity at position 0, a rotation of each pair, relative-position property.
    inv = rope_inverse_frequencies({"theta": 10000.0, "type": "default"}, 16)
    x = rng.standard_normal((3, 2, 16))
    _check(np.array_equal(apply_rope(x, [0, 0, 0], inv), x), "RoPE at position 0 is the identity")
    rotated = apply_rope(x, [5, 9, 30], inv)
    pair_norm = lambda a: a[..., 0::2] ** 2 + a[..., 1::2] ** 2  # noqa: E731
    _check(np.allclose(pair_norm(rotated), pair_norm(x)), "RoPE preserves each pair's norm")
    q, k = rng.standard_normal((1, 1, 16)), rng.standard_normal((1, 1, 16))
    dots = [np.sum(apply_rope(q, [p + 3], inv) * apply_rope(k, [p], inv)) for p in (0, 7, 21)]
    _check(np.allclose(dots, dots[0]), "RoPE scores depend only on the relative position")
    one = np.zeros((1, 1, 16))
    one[0, 0, 2] = 1.0  # pair k=1 -> (cos a, sin a) in slots 2, 3
    r = apply_rope(one, [2], inv)[0, 0]
    _check(np.allclose(r[2:4], [math.cos(2 * inv[1]), math.sin(2 * inv[1])]) and np.allclose(np.delete(r, [2, 3]), 0),
           "RoPE pairs are interleaved (2k, 2k+1)")
    # llama3 scaling: Scout's current values (low == high) and the original ones.
    base = rope_inverse_frequencies({"theta": 10000.0, "type": "default"}, 16)
    wavelen = 2 * math.pi / base
    cur = rope_inverse_frequencies({"theta": 10000.0, "type": "llama3", "factor": 16.0, "low": 1.0, "high": 1.0,
                                    "original": 64.0}, 16)
    _check(np.allclose(cur, np.where(wavelen > 64, base / 16, base)), "llama3 low==high: unchanged or divided")
    orig = rope_inverse_frequencies({"theta": 10000.0, "type": "llama3", "factor": 8.0, "low": 1.0, "high": 4.0,
                                     "original": 64.0}, 16)
    band = (wavelen >= 16) & (wavelen <= 64)
    _check(band.sum() == 2 and np.all(orig[band] < base[band]) and np.all(orig[band] > base[band] / 8)
           and np.array_equal(orig[wavelen < 16], base[wavelen < 16]) and np.allclose(orig[wavelen > 64], base[wavelen > 64] / 8),
           "llama3 original values: two smoothed pairs strictly between theta/8 and theta")
    # Masks.
    for chunk in (3, 5):
        m = attention_mask(17, chunk)
        _check(all(m[p].sum() == p % chunk + 1 and m[p, (p // chunk) * chunk] and m[p, p] for p in range(17))
               and not np.triu(m, 1).any(), f"chunked mask C={chunk}: chunk-local, causal, <= C keys")
    _check(np.array_equal(attention_mask(9, None), np.tril(np.ones((9, 9), bool))), "global mask is lower-triangular")
    # Temperature tuning.
    s = temperature_scales(np.arange(8), 4, 0.5)
    expected = [1.0] * 3 + [1 + 0.5 * math.log(2)] * 4 + [1 + 0.5 * math.log(3)]  # floor((p+1)/4) = 0,0,0,1,1,1,1,2
    _check(np.allclose(s, expected),
           "temperature steps at p+1 = floor_scale multiples")
    # MoE with top-k = all experts equals the brute-force sum; top-1 picks the largest logit.
    experts = [tuple(rng.standard_normal(s) for s in ((6, 5), (6, 5), (5, 6))) for _ in range(3)]
    layer = {"router": rng.standard_normal((3, 5)), "shared": tuple(rng.standard_normal(s) for s in ((6, 5), (6, 5), (5, 6))),
             "experts": experts}
    x = rng.standard_normal((4, 5))
    brute = np.array([swiglu(x[t], *layer["shared"]) + sum(
        swiglu(sigmoid(layer["router"][e] @ x[t]) * x[t], *experts[e]) for e in range(3)) for t in range(4)])
    _check(np.allclose(moe(x, layer, {"num_experts_per_tok": 3}), brute), "MoE top-k = E equals the brute-force sum")
    top1 = np.array([swiglu(x[t], *layer["shared"]) + swiglu(
        sigmoid(np.max(layer["router"] @ x[t])) * x[t], *experts[int(np.argmax(layer["router"] @ x[t]))]) for t in range(4)])
    _check(np.allclose(moe(x, layer, {"num_experts_per_tok": 1}), top1), "MoE top-1 scales the input of the best expert")
    _check(list(top_k_experts(np.array([1.0, 3.0, 3.0, 0.5]), 2)) == [1, 2], "top-k ties go to the lower index")


def _selfcheck_layer_plan():
    base = dict(HF_TEXT_DEFAULTS, num_hidden_layers=8, head_dim=16)
    plan = layer_plan(dict(base, no_rope_layers=[]))
    _check([s["use_rope"] for s in plan] == [True, True, True, False] * 2, "no_rope_layers [] -> every 4th NoPE")
    _check([s["chunked"] for s in plan] == [True, True, True, False] * 2, "RoPE layers chunked, NoPE global")
    plan = layer_plan(dict(base, interleave_moe_layer_step=2, use_qk_norm=False))
    _check([s["moe"] for s in plan] == [False, True] * 4 and not any(s["qk_norm"] for s in plan), "step 2 -> odd MoE")
    plan = layer_plan(dict(base, moe_layers=[], no_rope_layers=[0, 1, 1, 1, 1, 1, 1, 0]))
    _check(not any(s["moe"] for s in plan) and [s["temperature"] for s in plan] == [True] + [False] * 6 + [True],
           "explicit lists: moe_layers [] -> all dense; no_rope_layers 0 -> NoPE + temperature")
    plan = layer_plan(dict(base, attention_chunk_size=None))
    _check(not any(s["chunked"] for s in plan), "attention_chunk_size null -> no chunking")
    plan = layer_plan(dict(base, layer_types=[FULL] * 8))
    _check(not any(s["chunked"] for s in plan) and plan[0]["use_rope"] and plan[0]["qk_norm"],
           "layer_types decides the window independently of RoPE")


def _selfcheck_bf16():
    values = np.array([1 + 2 ** -8, 1 + 3 * 2 ** -8, -2.5, 1e-3], dtype=np.float32)
    back = safetensors_io.round_to_dtype(values, "bf16")
    _check(back[0] == 1.0 and back[1] == 1 + 2 ** -6 and back[2] == -2.5, "bf16 rounds to nearest, ties to even")
    _check(abs(back[3] - 1e-3) <= 1e-3 * 2 ** -8, "bf16 keeps 8 significant bits")


def _selfcheck_fixtures(tmp):
    """Fixtures read back exactly; file layouts do not change the model; causal prefix property."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures"))
    import make_fixture  # noqa: E402
    cfg = {"vocab_size": 101, "num_hidden_layers": 4, "attention_chunk_size": 3, "floor_scale": 4,
           "attn_scale": 0.3, "num_experts_per_tok": 2, "interleave_moe_layer_step": 2}
    ids = [5, 17, 3, 99, 42, 0, 7, 7, 64, 31, 12]
    reference = None
    for dtype, layout, experts, shards in (("f32", "multimodal", "fused", 1), ("f32", "text", "per_expert", 1),
                                           ("f32", "multimodal", "mlx", 3), ("bf16", "multimodal", "fused", 2),
                                           ("f16", "text", "mlx", 1)):
        d = os.path.join(tmp, f"{dtype}-{layout}-{experts}-{shards}")
        written = make_fixture.make_fixture(d, cfg, dtype=dtype, layout=layout, expert_layout=experts, shards=shards)
        stored, dtypes = safetensors_io.read_checkpoint(d, with_dtypes=True)
        _check(set(stored) == set(written) and all(np.array_equal(stored[n], written[n]) for n in written)
               and set(dtypes.values()) == {safetensors_io.DTYPE_ALIASES[dtype]},
               f"fixture {dtype}/{layout}/{experts}/{shards} shard(s) reads back identically")
        logits = forward(d, ids)
        if dtype == "f32":
            if reference is None:
                reference = logits
            _check(np.allclose(logits, reference, rtol=0, atol=1e-12), "  same logits as the first f32 layout")
        else:
            rel = np.abs(logits - reference).max() / np.abs(reference).max()
            _check(0 < rel < 0.1, f"  {dtype} rounding changes logits a little (rel {rel:.1e})")
    d = os.path.join(tmp, "f32-multimodal-fused-1")
    _check(np.allclose(forward(d, ids[:6]), reference[:6], rtol=0, atol=1e-12), "logits of a prefix do not see the future")
    _check(len(greedy(d, ids[:4], 3)) == 3, "greedy returns n ids")


def selfcheck():
    """Runs every self-check; raises AssertionError on the first failure."""
    import tempfile
    print("reference self-checks:")
    _selfcheck_blocks()
    _selfcheck_layer_plan()
    _selfcheck_bf16()
    with tempfile.TemporaryDirectory() as tmp:
        _selfcheck_fixtures(tmp)
    print("reference self-checks passed")


if __name__ == "__main__":
    selfcheck()
