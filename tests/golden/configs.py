"""Named golden configurations: tiny Llama 4 models that exercise every config path.

Each entry is a dict with: name, cfg (text-config fields for tests/fixtures/make_fixture.py),
dtype, layout, expert_layout, shards, vision, seed, ids (seeded random tokens) and splits
(prefill lengths for the incremental-decoding checks: prefill ids[:N], then one token at a time).
Sizes: hidden 64, 4 heads of 16, 2 kv heads (1 in one entry), experts of width 32, dense width 48,
4 experts. Chunk sizes 3–5 and floor_scale 4 make chunk boundaries and temperature steps fall inside
the 17–40 token sequences; rope_theta 10000 with original_max_position_embeddings 64 makes llama3
scaling change real frequencies at head_dim 16 (wavelengths 6.3, 19.9, 62.8, 199, ...).
"""

import zlib

import numpy as np

SCOUT_ROPE_SCALING = {"rope_type": "llama3", "factor": 16.0, "low_freq_factor": 1.0, "high_freq_factor": 1.0,
                      "original_max_position_embeddings": 64}
SCOUT_ORIGINAL_ROPE_SCALING = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                               "high_freq_factor": 4.0, "original_max_position_embeddings": 64}

# Scout-like: every layer MoE, qk-norm, llama3 scaling, every 4th layer NoPE.
SCOUT = {
    "num_hidden_layers": 4,
    "interleave_moe_layer_step": 1,
    "use_qk_norm": True,
    "rope_theta": 10000.0,
    "rope_scaling": SCOUT_ROPE_SCALING,
    "no_rope_layers": [],
    "attention_chunk_size": 5,
    "attn_temperature_tuning": 4,  # shipped configs carry a truthy integer
    "floor_scale": 4,
    "attn_scale": 0.1,
}
# Maverick-like: MoE on odd layers, dense layers of a different width, no qk-norm, no scaling.
MAVERICK = {
    "num_hidden_layers": 8,
    "interleave_moe_layer_step": 2,
    "intermediate_size_mlp": 48,
    "use_qk_norm": False,
    "rope_theta": 10000.0,
    "rope_scaling": None,
    "attention_chunk_size": 5,
    "attn_temperature_tuning": True,
    "floor_scale": 4,
    "attn_scale": 0.2,
}


def _entry(name, base, overrides, length, vocab, splits=None, dtype="f32", layout="multimodal",
           expert_layout="fused", shards=1, vision=True, seed=0):
    cfg = dict(base)
    cfg.update(overrides)
    cfg["vocab_size"] = vocab
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    ids = [int(t) for t in rng.integers(0, vocab, size=length)]
    if splits is None:
        splits = [1, 5, length - 1]
    return {"name": name, "cfg": cfg, "dtype": dtype, "layout": layout, "expert_layout": expert_layout,
            "shards": shards, "vision": vision, "seed": seed, "ids": ids, "splits": sorted(set(splits))}


CONFIGS = [
    _entry("scout_like", SCOUT, {}, 23, 131, splits=[1, 5, 10, 22]),
    _entry("scout_original_rope", SCOUT,
           {"rope_scaling": SCOUT_ORIGINAL_ROPE_SCALING, "attention_chunk_size": 3,
            "rms_norm_eps": 1e-2},  # a large eps makes the qk-norm epsilon visible in the logits
           17, 97, seed=1),
    _entry("maverick_like", MAVERICK, {}, 29, 211, splits=[1, 5, 15, 28], seed=2),
    _entry("top_k_2_one_kv_head", SCOUT, {"num_experts_per_tok": 2, "num_key_value_heads": 1,
                                          "attention_chunk_size": 3}, 20, 150, seed=3),
    _entry("top_k_all_experts", SCOUT, {"num_experts_per_tok": 4}, 19, 120, seed=4),
    _entry("explicit_lists", SCOUT,
           {"num_hidden_layers": 6, "no_rope_layers": [1, 0, 1, 1, 0, 1], "moe_layers": [0, 2, 5],
            "interleave_moe_layer_step": 3, "attention_chunk_size": 4},
           21, 140, splits=[1, 4, 8, 20], seed=5),
    _entry("layer_types_given", SCOUT,
           {"layer_types": ["chunked_attention", "full_attention", "chunked_attention", "full_attention"],
            "attention_chunk_size": 3},
           18, 109, seed=6),
    _entry("tied_embeddings_no_vision", MAVERICK, {"tie_word_embeddings": True, "num_hidden_layers": 4}, 17, 113,
           vision=False, seed=7),
    _entry("chunk_size_null", SCOUT, {"attention_chunk_size": None}, 33, 127, seed=8),
    _entry("head_dim_absent_no_temperature", MAVERICK,
           {"_omit": ["head_dim"], "attn_temperature_tuning": False, "num_hidden_layers": 4}, 17, 101, seed=9),
    _entry("text_layout", SCOUT, {"eos_token_id": 2}, 17, 100, layout="text", seed=10),
    _entry("per_expert_layout", SCOUT, {"num_experts_per_tok": 2}, 19, 130, expert_layout="per_expert", seed=11),
    _entry("mlx_layout", MAVERICK, {}, 19, 160, expert_layout="mlx", layout="text", seed=12),
    _entry("bf16_weights", SCOUT, {}, 23, 200, dtype="bf16", seed=13),
    _entry("f16_weights", MAVERICK, {}, 21, 180, dtype="f16", seed=14),
    _entry("sharded_3_with_vision", MAVERICK, {"num_experts_per_tok": 2}, 19, 300, shards=3, dtype="bf16", seed=15),
    _entry("rope_parameters_v5", SCOUT,
           {"rope_parameters": dict(SCOUT_ORIGINAL_ROPE_SCALING, rope_theta=10000.0), "_omit": ["rope_theta",
                                                                                                  "rope_scaling"]},
           21, 150, seed=16),
    _entry("long_temperature", SCOUT,
           {"num_hidden_layers": 8, "attention_chunk_size": 3, "attn_scale": 0.5}, 40, 250,
           splits=[1, 3, 5, 20, 39], seed=17),
]


def by_name(name):
    for entry in CONFIGS:
        if entry["name"] == name:
            return entry
    raise KeyError(f"no golden configuration named {name!r}; known: {', '.join(e['name'] for e in CONFIGS)}")
