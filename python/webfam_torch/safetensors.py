"""safetensors files in pure Python (struct + json + torch), so no extra package is needed.

Format: an 8-byte little-endian header length N, N bytes of JSON mapping each tensor name to its
dtype, shape and byte range in the data area (plus an optional "__metadata__" of strings), then the
raw little-endian data. The files read and written here are the ones webfam, timm and Hugging
Face's `safetensors` package use.
"""
import json
import os
import struct
import sys

import torch

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}
NAMES = {dtype: name for name, dtype in DTYPES.items()}

if sys.byteorder != "little":  # the format is little-endian and tensors are copied as raw bytes
    raise ImportError("webfam_torch.safetensors needs a little-endian machine")


class SafetensorsError(ValueError):
    pass


def load_file(path):
    """Reads a safetensors file: returns ({name: tensor}, {metadata key: string})."""
    with open(path, "rb") as f:
        data = f.read()
    return loads(data, where=path)


def loads(data, where="bytes"):
    """Decodes safetensors bytes (see load_file)."""
    if len(data) < 8:
        raise SafetensorsError(f"{where}: {len(data)} bytes, too short for a safetensors header")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise SafetensorsError(f"{where}: header length {n} runs past the end of the file ({len(data)} bytes)")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except ValueError as e:
        raise SafetensorsError(f"{where}: the header is not JSON ({e})") from None
    metadata = header.pop("__metadata__", None) or {}
    body = memoryview(data)[8 + n:]
    tensors = {}
    for name, entry in header.items():
        dtype = DTYPES.get(entry.get("dtype"))
        if dtype is None:
            raise SafetensorsError(f"{where}: tensor {name!r} has dtype {entry.get('dtype')!r}, which this reader does not handle")
        begin, end = entry["data_offsets"]
        shape = entry["shape"]
        count = 1
        for d in shape:
            count *= d
        itemsize = torch.tensor([], dtype=dtype).element_size()
        if not 0 <= begin <= end <= len(body) or end - begin != count * itemsize:
            raise SafetensorsError(f"{where}: tensor {name!r} of shape {shape} has byte range [{begin}, {end}), which does not fit")
        if count == 0:
            tensors[name] = torch.empty(shape, dtype=dtype)
            continue
        # frombuffer shares memory with its source; a bytearray copy keeps the tensor writable and owned.
        raw = bytearray(body[begin:end])
        tensors[name] = torch.frombuffer(raw, dtype=dtype).reshape(shape)
    return tensors, metadata


def dumps(tensors, metadata=None):
    """Encodes {name: tensor} (any dtype above) as safetensors bytes, names sorted."""
    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(v, str):
                raise SafetensorsError(f"metadata[{k!r}] must be a string, got {type(v).__name__}")
        header["__metadata__"] = dict(metadata)
    flat = {}
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        if t.dtype not in NAMES:
            raise SafetensorsError(f"tensor {name!r} has dtype {t.dtype}, which safetensors files here cannot hold")
        size = t.numel() * t.element_size()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + size]}
        flat[name] = t
        offset += size
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)  # data area 8-byte aligned, as the reference writer does
    out = bytearray(8 + len(head) + offset)
    out[:8] = struct.pack("<Q", len(head))
    out[8:8 + len(head)] = head
    at = 8 + len(head)
    for name in sorted(flat):
        t = flat[name]
        size = t.numel() * t.element_size()
        if size:
            # A uint8 view of the output buffer receives the tensor's bytes without a Python loop.
            dst = torch.frombuffer(out, dtype=torch.uint8, offset=at, count=size)
            src = t.reshape(-1)
            dst.copy_(src.view(torch.uint8) if t.dtype != torch.bool else src.to(torch.uint8))
        at += size
    return bytes(out)


def save_file(tensors, path, metadata=None):
    """Writes a safetensors file atomically (temporary file, fsync, rename)."""
    write_atomic(path, dumps(tensors, metadata))


def write_atomic(path, data):
    """Writes bytes to path so that a reader never sees a half-written file."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
