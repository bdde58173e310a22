#!/usr/bin/python3
"""Greedy agreement of 4-bit (and 8-bit) models with their bf16 original over 64 generated tokens.

A model with random weights is no test of this: its next-token distribution is nearly flat, the
gap between its two best logits is far below any quantization noise, and its greedy choice flips
under 4-bit rounding at most steps. A trained model is confident. So the fixture here is a
bf16 Scout-shaped model (hidden 256, 4 layers, 4 experts, vocab 1024) whose embeddings carry a
learned-like rule — token x is followed by succ(x), a fixed random permutation — that outweighs,
without drowning, the random attention and expert layers on top (EMBEDDING_SCALE: at 1.5 the
layers win and even the bf16 model loops over a few tokens; at 2 one 4-bit variant already
diverges; 3 leaves a margin that only broken quantized arithmetic destroys). The engine
quantizes it (`llama4 quantize`, mlx format), generates 64 greedy tokens with each model, and the
fraction of positions where the token equals the bf16 model's must reach AGREEMENT_LIMIT. The same
figure for the fixture without the rule is printed for comparison and not asserted.

Usage: quantized_agreement.py LLAMA4_BIN   (exit status 0 when every check passes)
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

_TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(_TESTS_DIR, "reference"))
sys.path.insert(0, os.path.join(_TESTS_DIR, "fixtures"))
import make_fixture  # noqa: E402
import safetensors_io  # noqa: E402

STEPS = 64
PROMPT = [1, 500, 37, 800]
AGREEMENT_LIMIT = {4: 0.90, 8: 0.90}
CONFIG = {
    "hidden_size": 256, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64,
    "intermediate_size": 512, "intermediate_size_mlp": 512, "num_local_experts": 4, "num_experts_per_tok": 1,
    "num_hidden_layers": 4, "interleave_moe_layer_step": 1, "vocab_size": 1024, "use_qk_norm": True,
    "attention_chunk_size": 16, "no_rope_layers": [], "tie_word_embeddings": False,
}
EMBEDDING_SCALE = 3.0
FIRST_ORDINARY_ID = 4   # ids below are BOS/EOS-like in the fixture config; succ never yields them


def add_successor_rule(model_dir, tensors, seed=7, embedding_scale=None):
    """Rewrites lm_head so that logit[succ(x)] follows the direction of x's embedding, and scales
    the embeddings so the rule carries EMBEDDING_SCALE times the weight of the layers' output."""
    rng = np.random.default_rng(seed)
    vocab = CONFIG["vocab_size"]
    successor = np.concatenate([rng.permutation(np.arange(FIRST_ORDINARY_ID, vocab)),
                                rng.integers(FIRST_ORDINARY_ID, vocab, FIRST_ORDINARY_ID)])
    embed = tensors["model.embed_tokens.weight"] * (embedding_scale or EMBEDDING_SCALE)
    unit = embed / np.linalg.norm(embed, axis=1, keepdims=True)
    lm_head = np.zeros_like(embed)
    for x in range(vocab):
        lm_head[successor[x]] += unit[x]
    tensors = dict(tensors)
    tensors["lm_head.weight"] = lm_head.astype(np.float32)
    tensors["model.embed_tokens.weight"] = embed
    safetensors_io.write_sharded(model_dir, tensors, dtype="bf16", shards=1)


def greedy(binary, model_dir):
    cmd = [binary, "generate", "-m", model_dir, "--ids", ",".join(map(str, PROMPT)), "-n", str(STEPS),
           "--temp", "0", "--json", "-q"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout)["ids"]


def agreement(reference, other):
    same = sum(1 for a, b in zip(reference, other) if a == b)
    return same / STEPS


def main():
    binary = sys.argv[1]
    failures = []
    with tempfile.TemporaryDirectory(prefix="agreement-") as tmp:
        for structured in (True, False):
            source = os.path.join(tmp, f"bf16-{structured}")
            tensors = make_fixture.make_fixture(source, CONFIG, dtype="bf16", layout="text")
            if structured:
                add_successor_rule(source, tensors)
            reference = greedy(binary, source)
            for bits, group in ((4, 64), (4, 32), (8, 64)):
                out = os.path.join(tmp, f"q{bits}g{group}-{structured}")
                subprocess.run([binary, "quantize", "-m", source, "-o", out, "--bits", str(bits),
                                "--group-size", str(group)], check=True, capture_output=True)
                fraction = agreement(reference, greedy(binary, out))
                label = "learned-like fixture" if structured else "random fixture (not asserted)"
                ok = not structured or fraction >= AGREEMENT_LIMIT[bits]
                print(f"{'PASS' if ok else 'FAIL'} q{bits}g{group} {label}: {fraction:.0%} of {STEPS} greedy tokens "
                      f"equal the bf16 model's" + (f" (limit {AGREEMENT_LIMIT[bits]:.0%})" if structured else ""),
                      flush=True)
                if not ok:
                    failures.append(f"q{bits}g{group}")
            if structured and len(set(reference)) < STEPS // 2:
                print(f"FAIL the bf16 model repeats itself ({len(set(reference))} distinct tokens): the check would be weak")
                failures.append("repetition")
    print(f"quantized agreement: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
