#!/usr/bin/python3
"""Bad-input suite: broken model folders must fail cleanly.

Starting from valid tiny fixtures (tests/fixtures/make_fixture.py, plus a small byte-level
tokenizer), each case breaks one thing — a truncated or lying safetensors header, overlapping
offsets, a shape or dtype that contradicts the config, NaN weights, a shard index pointing
nowhere, invalid UTF-8 or wrong JSON types in every JSON file, empty files, folders where files
belong, a corrupt tokenizer.model — and runs the `llama4` CLI on it, asserting:
  * a non-zero exit status, and no death by signal (returncode > 0);
  * no sanitizer report (the CI build runs with ASan + UBSan);
  * a message naming the file (or tensor, or layer) and the problem (substrings per case);
  * no output file left behind (eval's --logits path and its temporary file must not exist).

Usage: run_bad_inputs.py [--only NAME] [--list] [--keep]
Environment: LLAMA4_BIN (the built CLI), set by CTest.
"""

import argparse
import copy
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS_DIR = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS_DIR, "fixtures"))
sys.path.insert(0, os.path.join(TESTS_DIR, "reference"))
import make_fixture  # noqa: E402

SAFETENSORS = "model.safetensors"
INDEX = "model.safetensors.index.json"
SHARD_1 = "model-00001-of-00002.safetensors"
SHARD_2 = "model-00002-of-00002.safetensors"
PREFIX = "language_model.model."
Q_PROJ_0 = PREFIX + "layers.0.self_attn.q_proj.weight"
K_PROJ_0 = PREFIX + "layers.0.self_attn.k_proj.weight"  # [kv heads x head_dim, hidden]: not square
EMBED = PREFIX + "embed_tokens.weight"
EXPERTS_GATE_UP_0 = PREFIX + "layers.0.feed_forward.experts.gate_up_proj"
COMMAND_TIMEOUT_S = 120
SANITIZER_MARKERS = ("AddressSanitizer", "UndefinedBehaviorSanitizer", "runtime error:", "LeakSanitizer")
# The tiny model's vocabulary must hold the test tokenizer's ids (262 of them).
FIXTURE_CONFIG = {"vocab_size": 512}
TOKENIZER_SEED = os.path.join(os.path.dirname(TESTS_DIR), "fuzz", "corpus", "tokenizer_json",
                              "sequence_split.json")


# ---- safetensors surgery -----------------------------------------------------------------

def read_safetensors(path):
    blob = open(path, "rb").read()
    (length,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8:8 + length]), blob[8 + length:]


HEADER_ALIGNMENT = 8  # padding that keeps the data area (and so every tensor) aligned


def write_safetensors(path, header, data, header_text=None):
    text = header_text if header_text is not None else json.dumps(header).encode()
    text += b" " * (-len(text) % HEADER_ALIGNMENT)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def edit_header(folder, edit, file=SAFETENSORS):
    path = os.path.join(folder, file)
    header, data = read_safetensors(path)
    edit(header)
    write_safetensors(path, header, data)


def fill_tensor(folder, name, value, file=SAFETENSORS):
    """Overwrites every element of an F32 tensor with `value` (NaN, Inf...)."""
    path = os.path.join(folder, file)
    header, data = read_safetensors(path)
    begin, end = header[name]["data_offsets"]
    assert header[name]["dtype"] == "F32"
    data = data[:begin] + np.full((end - begin) // 4, value, np.float32).tobytes() + data[end:]
    write_safetensors(path, header, data)


def raw_edit(folder, file, transform):
    path = os.path.join(folder, file)
    blob = transform(open(path, "rb").read())
    open(path, "wb").write(blob)


def header_length(folder, file=SAFETENSORS):
    return struct.unpack("<Q", open(os.path.join(folder, file), "rb").read(8))[0]


def last_tensor(header):
    return max((n for n in header if n != "__metadata__"), key=lambda n: header[n]["data_offsets"][1])


def data_size(folder, file=SAFETENSORS):
    return len(read_safetensors(os.path.join(folder, file))[1])


# ---- JSON file edits ---------------------------------------------------------------------

def edit_json(folder, file, edit):
    path = os.path.join(folder, file)
    value = json.load(open(path, encoding="utf-8"))
    value = edit(value) or value
    json.dump(value, open(path, "w", encoding="utf-8"), ensure_ascii=False)


def text_config(config):
    return config["text_config"] if "text_config" in config else config


def set_text_field(field, value):
    def edit(config):
        text_config(config)[field] = value
    return edit


def write_bytes(folder, file, blob):
    open(os.path.join(folder, file), "wb").write(blob)


def invalid_utf8_json(folder, file):
    """Puts the bytes FF FE inside a JSON string of the file: valid JSON syntax, invalid UTF-8."""
    raw_edit(folder, file, lambda b: b.replace(b'"', b'"\xff\xfe', 1))


def replace_with_dir(folder, file):
    os.remove(os.path.join(folder, file))
    os.mkdir(os.path.join(folder, file))


def truncate(folder, file, keep):
    raw_edit(folder, file, lambda b: b[:keep(b)])


# ---- fixtures ----------------------------------------------------------------------------

def add_tokenizer_files(folder):
    shutil.copy(TOKENIZER_SEED, os.path.join(folder, "tokenizer.json"))
    json.dump({"bos_token": "<|begin_of_text|>", "eos_token": "<|eot|>", "add_bos_token": True,
               "chat_template": "{% for m in messages %}{{ m['content'] }}{% endfor %}"},
              open(os.path.join(folder, "tokenizer_config.json"), "w"))
    json.dump({"bos_token_id": 260, "eos_token_id": [261], "temperature": 0.6, "top_p": 0.9},
              open(os.path.join(folder, "generation_config.json"), "w"))


def tiktoken_file(folder):
    """Replaces tokenizer.json by an equivalent tokenizer.model (256 byte tokens + merges)."""
    os.remove(os.path.join(folder, "tokenizer.json"))
    import base64
    lines = [base64.b64encode(bytes([b])).decode() + " " + str(b) for b in range(256)]
    open(os.path.join(folder, "tokenizer.model"), "w").write("\n".join(lines) + "\n")


def build_bases(root):
    bases = {}
    single = os.path.join(root, "single")
    make_fixture.make_fixture(single, FIXTURE_CONFIG, dtype="f32", layout="multimodal")
    add_tokenizer_files(single)
    bases["single"] = single
    sharded = os.path.join(root, "sharded")
    make_fixture.make_fixture(sharded, FIXTURE_CONFIG, dtype="f32", layout="multimodal", shards=2)
    bases["sharded"] = sharded
    tiktoken = os.path.join(root, "tiktoken")
    shutil.copytree(single, tiktoken)
    tiktoken_file(tiktoken)
    bases["tiktoken"] = tiktoken
    return bases


# ---- cases -------------------------------------------------------------------------------

class Case:
    def __init__(self, name, base, mutate, command, expect):
        self.name, self.base, self.mutate, self.command, self.expect = name, base, mutate, command, expect


def cases():
    c = []

    def add(name, mutate, command, *expect, base="single"):
        c.append(Case(name, base, mutate, command, list(expect)))

    st = SAFETENSORS
    # Safetensors framing.
    add("st_empty_file", lambda d: write_bytes(d, st, b""), "inspect", st, "too short for the 8-byte header length")
    add("st_five_bytes", lambda d: write_bytes(d, st, b"\x10\0\0\0\0"), "inspect", st, "too short")
    add("st_truncated_in_header", lambda d: truncate(d, st, lambda b: 8 + header_length(d) // 2), "inspect",
        st, "runs past the end of the file")
    add("st_truncated_data", lambda d: truncate(d, st, lambda b: len(b) - 1000), "eval", st,
        "run past the data area")
    add("st_header_length_past_eof", lambda d: raw_edit(d, st, lambda b: struct.pack("<Q", len(b)) + b[8:]),
        "inspect", st, "runs past the end of the file")
    add("st_header_length_huge", lambda d: raw_edit(d, st, lambda b: struct.pack("<Q", 1 << 40) + b[8:]),
        "inspect", st, "exceeds the limit")
    add("st_header_not_json",
        lambda d: raw_edit(d, st, lambda b: b[:8] + b"x" * header_length(d) + b[8 + header_length(d):]),
        "inspect", st, "header is not valid JSON")
    add("st_header_is_array",
        lambda d: raw_edit(d, st, lambda b: b[:8] + b"[1]".ljust(header_length(d)) + b[8 + header_length(d):]),
        "inspect", st, "header is not a JSON object")
    add("st_header_invalid_utf8", lambda d: raw_edit(d, st, lambda b: b.replace(b'"language_model.', b'"\xff\xfeanguage_model.', 1)),
        "inspect", st, "header is not valid JSON")

    # Header entries.
    def overlap(h):
        other = [n for n in h if n != "__metadata__" and n != Q_PROJ_0 and
                 h[n]["data_offsets"][1] - h[n]["data_offsets"][0] ==
                 h[Q_PROJ_0]["data_offsets"][1] - h[Q_PROJ_0]["data_offsets"][0]][0]
        h[Q_PROJ_0]["data_offsets"] = list(h[other]["data_offsets"])
    add("st_overlapping_offsets", lambda d: edit_header(d, overlap), "inspect", st, "data overlaps tensor")

    def past_end(d):
        size = data_size(d)
        def edit(h):
            begin, end = h[Q_PROJ_0]["data_offsets"]
            h[Q_PROJ_0]["data_offsets"] = [size - (end - begin) + 4, size + 4]
        edit_header(d, edit)
    add("st_offsets_past_data", past_end, "inspect", st, Q_PROJ_0, "run past the data area")
    add("st_offsets_begin_after_end",
        lambda d: edit_header(d, lambda h: h[Q_PROJ_0].update(data_offsets=h[Q_PROJ_0]["data_offsets"][::-1])),
        "inspect", st, "begin is after end")
    add("st_offsets_not_integers", lambda d: edit_header(d, lambda h: h[Q_PROJ_0].update(data_offsets=["0", 4])),
        "inspect", st, "'data_offsets' must be [begin, end]")
    add("st_shape_bytes_mismatch",
        lambda d: edit_header(d, lambda h: h[Q_PROJ_0].update(shape=[h[Q_PROJ_0]["shape"][0] + 1, h[Q_PROJ_0]["shape"][1]])),
        "inspect", st, Q_PROJ_0, "bytes but F32")
    add("st_dtype_size_mismatch", lambda d: edit_header(d, lambda h: h[Q_PROJ_0].update(dtype="BF16")),
        "inspect", st, Q_PROJ_0, "needs")
    add("st_unknown_dtype", lambda d: edit_header(d, lambda h: h[Q_PROJ_0].update(dtype="F8_E9M9")),
        "inspect", st, "unknown dtype")
    add("st_negative_dim", lambda d: edit_header(d, lambda h: h[Q_PROJ_0].update(shape=[-1, 64])),
        "inspect", st, "non-negative integers")
    add("st_shape_overflows", lambda d: edit_header(d, lambda h: h[Q_PROJ_0].update(shape=[1 << 40, 1 << 40])),
        "inspect", st, "overflows 64 bits")
    add("st_entry_not_object", lambda d: edit_header(d, lambda h: h.update({Q_PROJ_0: [1, 2]})),
        "inspect", st, "entry is not an object")
    add("st_metadata_not_object", lambda d: edit_header(d, lambda h: h.update(__metadata__=[1])),
        "inspect", st, "'__metadata__' is not an object")

    def duplicate_entry(d):
        header, data = read_safetensors(os.path.join(d, st))
        text = json.dumps(header)
        entry = json.dumps({Q_PROJ_0: header[Q_PROJ_0]})[1:-1]
        write_safetensors(os.path.join(d, st), None, data, ("{" + entry + ", " + text[1:]).encode())
    add("st_duplicate_tensor_name", duplicate_entry, "inspect", st, Q_PROJ_0, "duplicate name")
    add("st_misaligned_data", lambda d: raw_edit(d, st, lambda b: struct.pack("<Q", header_length(d) + 1) +
                                                   b[8:8 + header_length(d)] + b" " + b[8 + header_length(d):]),
        "inspect", st, "is not aligned to its 4-byte dtype F32")
    add("st_is_directory", lambda d: replace_with_dir(d, st), "inspect", st, "is a directory")

    # Tensors against the config (weight binding).
    def rename(old, new):
        return lambda d: edit_header(d, lambda h: h.update({new: h.pop(old)}))
    add("bind_missing_tensor", lambda d: edit_header(d, lambda h: h.pop(Q_PROJ_0)), "eval",
        "missing tensor 'model.layers.0.self_attn.q_proj.weight'")
    add("bind_extra_tensor", rename(Q_PROJ_0, PREFIX + "layers.9.self_attn.q_proj.weight"), "inspect",
        "unexpected tensor 'model.layers.9.self_attn.q_proj.weight'")
    add("bind_transposed_shape",
        lambda d: edit_header(d, lambda h: h[K_PROJ_0].update(shape=h[K_PROJ_0]["shape"][::-1])), "inspect",
        "tensor 'model.layers.0.self_attn.k_proj.weight': expected")

    def expert_shape(h):
        e, hidden, width2 = h[EXPERTS_GATE_UP_0]["shape"]
        h[EXPERTS_GATE_UP_0]["shape"] = [e * 2, hidden, width2 // 2]
    add("bind_wrong_expert_shape", lambda d: edit_header(d, expert_shape), "inspect",
        "model.layers.0.feed_forward.experts.gate_up_proj", "expected")

    def integer_dtype(h):
        h[Q_PROJ_0]["dtype"] = "I32"
    add("bind_integer_weights", lambda d: edit_header(d, integer_dtype), "inspect",
        "model.layers.0.self_attn.q_proj.weight': dtype I32")
    add("bind_config_head_dim", lambda d: edit_json(d, "config.json", set_text_field("head_dim", 8)),
        "inspect", "binding checkpoint tensors", "q_proj.weight")
    add("bind_config_vocab_size", lambda d: edit_json(d, "config.json", set_text_field("vocab_size", 1000)),
        "inspect", "model.embed_tokens.weight")

    # Non-finite weights: the loader does not scan weights; --check-numerics names the spot.
    add("nan_weights_check_numerics", lambda d: fill_tensor(d, Q_PROJ_0, np.nan), "eval-check",
        "numerics check: layer 0 attention output holds NaN")
    add("inf_embeddings_check_numerics", lambda d: fill_tensor(d, EMBED, np.inf), "eval-check",
        "numerics check: token embeddings holds +Inf")

    # Sharded checkpoints.
    add("index_shard_missing", lambda d: os.remove(os.path.join(d, SHARD_2)), "inspect", INDEX,
        SHARD_2, "does not exist", base="sharded")

    def move_listing(index):
        name = next(n for n, s in index["weight_map"].items() if s == SHARD_2)
        index["weight_map"][name] = SHARD_1
    add("index_tensor_not_in_shard", lambda d: edit_json(d, INDEX, move_listing), "inspect", INDEX,
        "which does not contain it", base="sharded")

    def escape(index):
        name = next(iter(index["weight_map"]))
        index["weight_map"][name] = "../" + SHARD_1
    add("index_path_escape", lambda d: edit_json(d, INDEX, escape), "inspect", INDEX,
        "must be a plain file name", base="sharded")
    add("index_absolute_path", lambda d: edit_json(d, INDEX, lambda i: i["weight_map"].update(
        {next(iter(i["weight_map"])): "/etc/passwd"})), "inspect", INDEX, "must be a plain file name", base="sharded")
    add("index_not_json", lambda d: write_bytes(d, INDEX, b"{\"weight_map\": "), "inspect", INDEX,
        "not valid JSON", base="sharded")
    add("index_empty_file", lambda d: write_bytes(d, INDEX, b""), "inspect", INDEX, "not valid JSON", base="sharded")
    add("index_invalid_utf8", lambda d: invalid_utf8_json(d, INDEX), "inspect", INDEX, "not valid JSON",
        base="sharded")
    add("index_weight_map_list", lambda d: edit_json(d, INDEX, lambda i: i.update(weight_map=[1])), "inspect",
        INDEX, "'weight_map' is not an object", base="sharded")
    add("index_shard_not_string", lambda d: edit_json(d, INDEX, lambda i: i["weight_map"].update(
        {next(iter(i["weight_map"])): 3})), "inspect", INDEX, "shard is not a string", base="sharded")
    add("index_is_directory", lambda d: replace_with_dir(d, INDEX), "inspect", INDEX, "is a directory",
        base="sharded")
    add("shard_is_directory", lambda d: replace_with_dir(d, SHARD_1), "inspect", SHARD_1, "does not exist",
        base="sharded")
    add("shard_truncated", lambda d: truncate(d, SHARD_2, lambda b: len(b) // 2), "inspect", SHARD_2,
        "run past the data area", base="sharded")

    # config.json.
    cfg = "config.json"
    add("config_missing", lambda d: os.remove(os.path.join(d, cfg)), "inspect", cfg)
    add("config_empty", lambda d: write_bytes(d, cfg, b""), "inspect", cfg)
    add("config_not_json", lambda d: write_bytes(d, cfg, b"{\"text_config\": {"), "inspect", cfg)
    add("config_invalid_utf8", lambda d: invalid_utf8_json(d, cfg), "inspect", cfg)
    add("config_is_directory", lambda d: replace_with_dir(d, cfg), "inspect", cfg, "is a folder")
    add("config_top_level_array", lambda d: write_bytes(d, cfg, b"[1, 2]"), "inspect", cfg)
    add("config_text_config_string", lambda d: edit_json(d, cfg, lambda c: c.update(text_config="x")),
        "inspect", cfg, "text_config")
    add("config_hidden_size_string", lambda d: edit_json(d, cfg, set_text_field("hidden_size", "64")),
        "inspect", cfg, "hidden_size")
    add("config_hidden_size_float", lambda d: edit_json(d, cfg, set_text_field("hidden_size", 64.5)),
        "inspect", cfg, "hidden_size")
    add("config_vocab_negative", lambda d: edit_json(d, cfg, set_text_field("vocab_size", -5)),
        "inspect", cfg, "vocab_size")
    add("config_layers_absurd", lambda d: edit_json(d, cfg, set_text_field("num_hidden_layers", 10 ** 9)),
        "inspect", cfg, "num_hidden_layers")
    add("config_heads_zero", lambda d: edit_json(d, cfg, set_text_field("num_key_value_heads", 0)),
        "eval", cfg, "num_key_value_heads")
    add("config_no_rope_layers_length", lambda d: edit_json(d, cfg, set_text_field("no_rope_layers", [1, 0])),
        "inspect", "no_rope_layers")
    add("config_rope_scaling_type", lambda d: edit_json(d, cfg, set_text_field("rope_scaling", {"rope_type": "llama3", "factor": "x"})),
        "inspect", cfg, "rope_scaling")
    add("config_number_overflow", lambda d: raw_edit(d, cfg, lambda b: b.replace(b'"rms_norm_eps": 1e-05', b'"rms_norm_eps": 1e10000', 1)),
        "inspect", cfg, "number overflow")
    add("config_rms_eps_null", lambda d: edit_json(d, cfg, set_text_field("rms_norm_eps", [1e-5])),
        "inspect", cfg, "rms_norm_eps")

    # Tokenizer files (tokenize), generation_config.json (generate).
    tj, tc, gc = "tokenizer.json", "tokenizer_config.json", "generation_config.json"
    add("tokenizer_json_empty", lambda d: write_bytes(d, tj, b""), "tokenize", tj, "invalid JSON")
    add("tokenizer_json_not_json", lambda d: write_bytes(d, tj, b"{\"model\": {"), "tokenize", tj, "invalid JSON")
    add("tokenizer_json_invalid_utf8", lambda d: invalid_utf8_json(d, tj), "tokenize", tj, "invalid JSON")
    add("tokenizer_json_vocab_list", lambda d: edit_json(d, tj, lambda t: t["model"].update(vocab=[1, 2])),
        "tokenize", tj, "model.vocab")
    add("tokenizer_json_vocab_id_string", lambda d: edit_json(d, tj, lambda t: t["model"]["vocab"].update(a="7")),
        "tokenize", tj, "invalid id")
    add("tokenizer_json_merge_unknown", lambda d: edit_json(d, tj, lambda t: t["model"]["merges"].append(["zz", "q"])),
        "tokenize", tj, "is not in the vocab")
    add("tokenizer_json_model_string", lambda d: edit_json(d, tj, lambda t: t.update(model="BPE")),
        "tokenize", tj, "model")
    add("tokenizer_json_added_id_string", lambda d: edit_json(d, tj, lambda t: t["added_tokens"][0].update(id="x")),
        "tokenize", tj, "added_tokens[0].id: invalid token id")
    add("tokenizer_json_vocab_id_huge", lambda d: edit_json(d, tj, lambda t: t["model"]["vocab"].update(zz=2000000000)),
        "tokenize", tj, "invalid id 2000000000")
    add("tokenizer_json_added_id_float", lambda d: edit_json(d, tj, lambda t: t["added_tokens"][0].update(id=1e20)),
        "tokenize", tj, "added_tokens[0].id: invalid token id")
    add("tokenizer_json_is_directory", lambda d: replace_with_dir(d, tj), "tokenize", "tokenizer")
    add("tokenizer_config_not_json", lambda d: write_bytes(d, tc, b"{"), "tokenize", tc, "invalid JSON")
    add("tokenizer_config_invalid_utf8", lambda d: invalid_utf8_json(d, tc), "tokenize", tc, "invalid JSON")
    add("tokenizer_config_template_number", lambda d: edit_json(d, tc, lambda t: t.update(chat_template=5)),
        "tokenize", tc, "chat_template")
    add("tokenizer_config_bos_number", lambda d: edit_json(d, tc, lambda t: t.update(bos_token=1)),
        "tokenize", tc, "bos_token")
    add("tokenizer_config_add_bos_string", lambda d: edit_json(d, tc, lambda t: t.update(add_bos_token="yes")),
        "tokenize", tc, "add_bos_token")
    add("tokenizer_config_array", lambda d: write_bytes(d, tc, b"[]"), "tokenize", tc, "expected a JSON object")
    tm = "tokenizer.model"
    add("tiktoken_bad_base64", lambda d: raw_edit(d, tm, lambda b: b"@@@@ 0\n" + b.split(b"\n", 1)[1]),
        "tokenize", tm, "invalid base64", base="tiktoken")
    add("tiktoken_bad_rank", lambda d: raw_edit(d, tm, lambda b: b.replace(b" 5\n", b" five\n", 1)),
        "tokenize", tm, "invalid rank", base="tiktoken")
    add("tiktoken_duplicate_rank", lambda d: raw_edit(d, tm, lambda b: b.replace(b" 5\n", b" 4\n", 1)),
        "tokenize", tm, "duplicate rank", base="tiktoken")
    add("tiktoken_rank_absurd", lambda d: raw_edit(d, tm, lambda b: b.replace(b" 5\n", b" 999999999999\n", 1)),
        "tokenize", tm, "invalid rank", base="tiktoken")
    add("tiktoken_empty", lambda d: write_bytes(d, tm, b""), "tokenize", tm, "no ranks", base="tiktoken")
    add("tiktoken_is_directory", lambda d: replace_with_dir(d, tm), "tokenize", "tokenizer", base="tiktoken")
    add("generation_config_not_json", lambda d: write_bytes(d, gc, b"{\"temperature\": "), "generate", gc)
    add("generation_config_invalid_utf8", lambda d: invalid_utf8_json(d, gc), "generate", gc)
    add("generation_config_temperature_string", lambda d: edit_json(d, gc, lambda g: g.update(temperature="hot")),
        "generate", gc, "temperature")
    add("generation_config_eos_string", lambda d: edit_json(d, gc, lambda g: g.update(eos_token_id="x")),
        "generate", gc, "eos_token_id")
    add("generation_config_array", lambda d: write_bytes(d, gc, b"[0.6]"), "generate", gc)

    # Command-line input against a valid model.
    add("cli_ids_not_numbers", lambda d: None, "eval-ids:1,x,3", "x")
    add("cli_ids_outside_vocab", lambda d: None, "eval-ids:1,600", "token id 600 is outside the vocabulary")
    add("cli_ids_negative", lambda d: None, "eval-ids:1,-2", "-2")
    return c


def command_line(binary, case, folder, out_dir):
    logits = os.path.join(out_dir, "logits.npy")
    kind = case.command
    if kind == "inspect":
        return [binary, "inspect", "-m", folder]
    if kind in ("eval", "eval-check") or kind.startswith("eval-ids:"):
        ids = kind.split(":", 1)[1] if kind.startswith("eval-ids:") else "1,2,3"
        argv = [binary, "eval", "-m", folder, "--ids", ids, "--logits", logits, "-t", "1"]
        return argv + (["--check-numerics"] if kind == "eval-check" else [])
    if kind == "tokenize":
        return [binary, "tokenize", "-m", folder, "--text", "Hello world"]
    if kind == "generate":
        return [binary, "generate", "-m", folder, "--ids", "1,2", "-n", "2", "-t", "1"]
    raise ValueError(kind)


def run_case(binary, case, bases, work):
    folder = os.path.join(work, case.name)
    out_dir = os.path.join(work, case.name + ".out")
    shutil.copytree(bases[case.base], folder)
    os.makedirs(out_dir)
    case.mutate(folder)
    argv = command_line(binary, case, folder, out_dir)
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=COMMAND_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return [f"timed out after {COMMAND_TIMEOUT_S} s"]
    err = proc.stderr.decode("utf-8", "replace")
    problems = []
    if proc.returncode == 0:
        problems.append("exit status 0 (expected failure)")
    elif proc.returncode < 0:
        problems.append(f"killed by signal {-proc.returncode}")
    if any(marker in err for marker in SANITIZER_MARKERS):
        problems.append("sanitizer report")
    if "error:" not in err:
        problems.append("no 'error:' message")
    for text in case.expect:
        if text not in err:
            problems.append(f"message lacks {text!r}")
    left = os.listdir(out_dir)
    if left:
        problems.append(f"output left behind: {left}")
    if problems:
        problems.append("stderr: " + err.strip()[-1500:])
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="run only the case with this name")
    parser.add_argument("--list", action="store_true", help="list the case names")
    parser.add_argument("--keep", action="store_true", help="keep the broken folders")
    args = parser.parse_args(argv)
    all_cases = cases()
    if args.list:
        print("\n".join(case.name for case in all_cases))
        return 0
    selected = [case for case in all_cases if args.only in (None, case.name)]
    if not selected:
        print(f"no case named {args.only!r}", file=sys.stderr)
        return 2
    binary = os.environ.get("LLAMA4_BIN")
    if not binary or not os.path.exists(binary):
        print("LLAMA4_BIN must name the built llama4 program", file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="llama4-bad-input-")
    try:
        bases = build_bases(os.path.join(work, "bases"))
        passed, failed = 0, []
        for case in selected:
            problems = run_case(binary, case, bases, work)
            if problems:
                failed.append(case.name)
                print(f"FAIL {case.name}:\n  " + "\n  ".join(problems))
            else:
                passed += 1
                print(f"ok   {case.name}")
        print(f"bad_input: {passed} passed, {len(failed)} failed")
        return 1 if failed else 0
    finally:
        if args.keep:
            print(f"folders kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
