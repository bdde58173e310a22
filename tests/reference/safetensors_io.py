"""Minimal safetensors reader/writer on numpy alone, for test fixtures and the numpy reference.

A safetensors file is: an 8-byte little-endian header length N, N bytes of JSON
({name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, padded with
spaces so the data starts 8-byte aligned), then the raw little-endian tensor bytes.
Supported dtypes: F32, F16 and BF16. BF16 has no numpy type, so it is stored as uint16 holding
the upper half of the float32 bits after round-to-nearest-even, and decoded back to float32.
Sharded checkpoints carry `model.safetensors.index.json` mapping each tensor name to its file.
"""

import json
import os
import struct

import numpy as np

HEADER_ALIGNMENT = 8
HEADER_LENGTH_BYTES = 8
INDEX_FILE_NAME = "model.safetensors.index.json"
SINGLE_FILE_NAME = "model.safetensors"

# Element size and numpy storage type of each supported safetensors dtype.
_STORAGE = {
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
}
# Short names accepted by the writers.
DTYPE_ALIASES = {"f32": "F32", "f16": "F16", "bf16": "BF16", "F32": "F32", "F16": "F16", "BF16": "BF16"}


def float32_to_bf16_bits(values):
    """Rounds float32 values to bfloat16 (nearest, ties to even); returns the uint16 bit patterns."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    lsb_of_result = (bits >> 16) & 1
    rounded = ((bits + 0x7FFF + lsb_of_result) >> 16).astype(np.uint16)
    nan = np.isnan(np.asarray(values, dtype=np.float32))
    if nan.any():  # keep NaN a (quiet) NaN instead of letting the carry turn it into infinity
        rounded[nan] = ((bits[nan] >> 16) | 0x40).astype(np.uint16)
    return rounded


def bf16_bits_to_float32(bits):
    """Widens bfloat16 bit patterns (uint16) to float32 exactly."""
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def round_to_dtype(values, dtype):
    """Returns float32 values exactly as they read back after being stored as `dtype`."""
    dtype = DTYPE_ALIASES[dtype]
    values = np.asarray(values, dtype=np.float32)
    if dtype == "F32":
        return values.copy()
    if dtype == "F16":
        return values.astype(np.float16).astype(np.float32)
    return bf16_bits_to_float32(float32_to_bf16_bits(values)).reshape(values.shape)


def _encode(values, dtype):
    values = np.asarray(values, dtype=np.float32)
    if dtype == "F32":
        return values.astype("<f4").tobytes()
    if dtype == "F16":
        return values.astype("<f2").tobytes()
    return float32_to_bf16_bits(values).astype("<u2").tobytes()


def write_safetensors(path, tensors, dtype="F32", metadata=None):
    """Writes `tensors` (name -> array, written in the given order) to `path` in one dtype.

    `dtype` may also be a dict name -> dtype for mixed files. Returns the number of data bytes.
    """
    header = {"__metadata__": dict(metadata or {"format": "pt"})}
    blobs = []
    offset = 0
    for name, values in tensors.items():
        tensor_dtype = DTYPE_ALIASES[dtype[name] if isinstance(dtype, dict) else dtype]
        blob = _encode(values, tensor_dtype)
        header[name] = {
            "dtype": tensor_dtype,
            "shape": [int(d) for d in np.shape(values)],
            "data_offsets": [offset, offset + len(blob)],
        }
        blobs.append(blob)
        offset += len(blob)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    padding = (-len(header_bytes)) % HEADER_ALIGNMENT
    header_bytes += b" " * padding
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for blob in blobs:
            f.write(blob)
    return offset


def read_safetensors(path, with_dtypes=False):
    """Reads every tensor of one file as float32 arrays (name -> array), in file order.

    With `with_dtypes` also returns name -> stored dtype string.
    """
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < HEADER_LENGTH_BYTES:
        raise ValueError(f"{path}: too short for a safetensors header")
    (header_len,) = struct.unpack("<Q", data[:HEADER_LENGTH_BYTES])
    body_start = HEADER_LENGTH_BYTES + header_len
    if body_start > len(data):
        raise ValueError(f"{path}: header length {header_len} exceeds the file size {len(data)}")
    header = json.loads(data[HEADER_LENGTH_BYTES:body_start].decode("utf-8"))
    tensors, dtypes = {}, {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = info["dtype"]
        if dtype not in _STORAGE:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {dtype}")
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        raw = np.frombuffer(data, dtype=_STORAGE[dtype], count=(end - begin) // _STORAGE[dtype].itemsize,
                            offset=body_start + begin)
        expected = int(np.prod(shape, dtype=np.int64))
        if raw.size != expected:
            raise ValueError(f"{path}: tensor {name}: {raw.size} elements stored, shape {list(shape)} needs {expected}")
        values = bf16_bits_to_float32(raw) if dtype == "BF16" else raw.astype(np.float32)
        tensors[name] = values.reshape(shape)
        dtypes[name] = dtype
    return (tensors, dtypes) if with_dtypes else tensors


def shard_file_name(index, count):
    """HF naming: model-00001-of-00003.safetensors (1-based index)."""
    return f"model-{index:05d}-of-{count:05d}.safetensors"


def write_sharded(out_dir, tensors, dtype="F32", shards=1):
    """Writes a checkpoint into `out_dir`: one `model.safetensors`, or `shards` files + index.

    Tensors keep their given order and are cut into contiguous groups of roughly equal bytes
    (every shard gets at least one tensor). Returns the list of file names written.
    """
    names = list(tensors)
    if shards < 1 or shards > len(names):
        raise ValueError(f"shards={shards}: must be between 1 and the tensor count {len(names)}")
    if shards == 1:
        write_safetensors(os.path.join(out_dir, SINGLE_FILE_NAME), tensors, dtype)
        return [SINGLE_FILE_NAME]
    sizes = [np.asarray(tensors[n]).size for n in names]
    total = sum(sizes)
    groups, current, running = [], [], 0
    for i, name in enumerate(names):
        current.append(name)
        running += sizes[i]
        remaining_names = len(names) - i - 1
        remaining_groups = shards - len(groups) - 1
        boundary = total * (len(groups) + 1) / shards
        if remaining_groups > 0 and (running >= boundary or remaining_names == remaining_groups):
            groups.append(current)
            current = []
    groups.append(current)
    assert len(groups) == shards and all(groups)
    weight_map, files, total_bytes = {}, [], 0
    for i, group in enumerate(groups):
        file_name = shard_file_name(i + 1, shards)
        total_bytes += write_safetensors(os.path.join(out_dir, file_name), {n: tensors[n] for n in group}, dtype)
        weight_map.update({n: file_name for n in group})
        files.append(file_name)
    index = {"metadata": {"total_size": total_bytes}, "weight_map": weight_map}
    with open(os.path.join(out_dir, INDEX_FILE_NAME), "w") as f:
        json.dump(index, f, indent=2)
    return files


def read_checkpoint(model_dir, with_dtypes=False):
    """Reads all tensors of a checkpoint directory (single file or index + shards)."""
    index_path = os.path.join(model_dir, INDEX_FILE_NAME)
    if os.path.exists(index_path):
        with open(index_path) as f:
            weight_map = json.load(f)["weight_map"]
        files = sorted(set(weight_map.values()))
    else:
        files = sorted(n for n in os.listdir(model_dir) if n.endswith(".safetensors"))
        weight_map = None
    tensors, dtypes = {}, {}
    for file_name in files:
        part, part_dtypes = read_safetensors(os.path.join(model_dir, file_name), with_dtypes=True)
        for name in part:
            if name in tensors:
                raise ValueError(f"{model_dir}: tensor {name} stored twice")
            if weight_map is not None and weight_map.get(name) != file_name:
                raise ValueError(f"{model_dir}: tensor {name} found in {file_name}, index says {weight_map.get(name)}")
        tensors.update(part)
        dtypes.update(part_dtypes)
    if weight_map is not None and set(weight_map) != set(tensors):
        raise ValueError(f"{model_dir}: index and shards disagree on {sorted(set(weight_map) ^ set(tensors))}")
    return (tensors, dtypes) if with_dtypes else tensors
