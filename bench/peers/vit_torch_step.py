"""The training-step benchmark's PyTorch peer (bench/peers/vit-torch.ts drives it): the same ViT
(python/webfam_torch's timm-layout VisionTransformer), the same initial weights and batch, and
torch.optim.AdamW, on the CPU with every core — what a CPU-only user would run instead of webfam.

A line protocol on stdin/stdout, so the benchmark's rounds can interleave it with the WebGPU
libraries step by step:
  argv[1]             a safetensors file: the parameters by timm name, `__images` [B, C, S, S],
                      `__labels` [B] (as float32); metadata `config` holds the JSON below
  "step"              one step (forward, cross-entropy, backward, AdamW update) -> "ok"
  "loss"              the last step's loss -> "<float>"
  "params PATH"       writes the parameters to PATH (safetensors) -> "ok"
  "memory"            peak resident set of this process, bytes -> "<int>"
  "quit"              exits
The first line written is "ready <torch version> <threads>". Errors go to stderr as one line
and end the process with status 1.
"""

import json
import os
import resource
import sys

import torch
import torch.nn.functional as F

from webfam_torch.safetensors import load_file, save_file
from webfam_torch.vit import VisionTransformer


def main():
    tensors, metadata = load_file(sys.argv[1])
    config = json.loads(metadata["config"])
    images = tensors.pop("__images")
    labels = tensors.pop("__labels").long()
    torch.set_num_threads(config.get("threads") or os.cpu_count() or 1)
    model = VisionTransformer(**config["kwargs"])
    model.load_state_dict(tensors, strict=True)
    model.train()
    o = config["opt"]
    opt = torch.optim.AdamW(model.parameters(), lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"], weight_decay=o["weightDecay"])
    last_loss = float("nan")
    print(f"ready {torch.__version__} {torch.get_num_threads()}", flush=True)
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "step":
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            opt.step()
            last_loss = loss.item()
            print("ok", flush=True)
        elif cmd == "loss":
            print(repr(last_loss), flush=True)
        elif cmd == "params":
            save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, arg)
            print("ok", flush=True)
        elif cmd == "memory":
            print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, flush=True)
        elif cmd == "quit":
            return
        else:
            raise ValueError(f"unknown command {cmd!r}")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line for the driver, which reports it as the peer's error
        print(f"{type(e).__name__}: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
