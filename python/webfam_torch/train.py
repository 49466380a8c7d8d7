"""Continue training a webfam export in PyTorch, on one process or many (DDP). This is the path for
users who outgrow one machine: `node train.js --export` hands the weights over, this trains them on
as many GPUs (or CPU processes) as torchrun starts, and `node train.js --import` brings them back.

    torchrun --nproc_per_node 4 -m webfam_torch.train runs/x/pytorch --data runs/x/pytorch/data/train.safetensors \
        --out runs/x/pytorch-continued --epochs 3

The losses are webfam's (cross-entropy for a plain ViT; iFAM's stage losses and part-discovery
losses, see losses.py) with the weights the export's config.json carries; AdamW with the same
parameter groups, linear warm-up then cosine decay, gradient-norm clipping and horizontal flips,
as `node train.js` does. The optimiser starts afresh (exports hold weights only). --batch-size is
the global batch: each of the W processes takes batch_size / W images of every step, so the run
follows the same schedule whatever W is. NCCL on CUDA, gloo on CPU.
"""
import argparse
import math
import os
import sys

import torch
import torch.distributed as dist
from torch import nn

from .export import ExportError, load_data, load_export, normalize, save_export
from .losses import DEFAULT_TRAINING, batch_loss
from .evaluate import evaluate


class Objective(nn.Module):
    """The model and its loss as one module, so DDP sees a single forward per step."""

    def __init__(self, model, method, weights):
        super().__init__()
        self.model, self.method, self.weights = model, method, weights

    def forward(self, images, labels):
        return batch_loss(self.method, self.model, images, labels, self.weights)


def param_groups(model, weight_decay):
    """Decay matrices only; not biases, norms, tokens, position embeddings, prototypes, LayerScale."""
    decay, plain = [], []
    for name, p in model.named_parameters():
        last = name.rsplit(".", 1)[-1]
        (plain if p.dim() < 2 or last in ("cls_token", "reg_token", "pos_embed", "prototypes") else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]


def cosine_lr(step, base, total, warmup, minimum):
    if step < warmup:
        return base * (step + 1) / warmup
    if step >= total:
        return minimum
    return minimum + (base - minimum) * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python3 -m webfam_torch.train", description=__doc__.split("\n\n")[0])
    p.add_argument("export", help="export directory to start from (node train.js --export, or an earlier --out)")
    p.add_argument("--data", required=True, help="training data file (images, labels), e.g. <export>/data/train.safetensors")
    p.add_argument("--val", help="validation data file, evaluated after every epoch")
    p.add_argument("--out", required=True, help="directory for the trained export (written after every epoch)")
    p.add_argument("--epochs", type=int, default=1, help="epochs over the training data (default: 1)")
    p.add_argument("--batch-size", type=int, default=16, help="global batch, split across the processes (default: 16)")
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate of AdamW (default: 1e-3)")
    p.add_argument("--weight-decay", type=float, default=0.05, help="decoupled weight decay of the weight matrices (default: 0.05)")
    p.add_argument("--warmup-epochs", type=float, default=0.3, help="linear warm-up before the cosine decay (default: 0.3)")
    p.add_argument("--clip", type=float, default=2.0, help="global gradient-norm clipping, 0 = off (default: 2)")
    p.add_argument("--no-augment", dest="augment", action="store_false", help="no random horizontal flips")
    p.add_argument("--seed", type=int, default=0, help="seed of the batch order, noise and flips (default: 0)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="cuda or cpu (default: cuda when there is one)")
    p.add_argument("--loss", choices=["method", "ce"], default="method",
                   help="method: the export's own losses; ce: cross-entropy only (the one choice for robustvit exports)")
    for key in DEFAULT_TRAINING:
        p.add_argument("--" + key.replace("_", "-"), type=float, default=None,
                       help="loss setting (default: the export's, from the webfam run; else node train.js's default)")
    return p.parse_args(argv)


def main(argv=None):
    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    distributed = world > 1
    args = parse_args(argv)
    if args.batch_size % world:
        print(f"webfam_torch.train: --batch-size {args.batch_size} does not split over {world} processes", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    if distributed:
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        model, config = load_export(args.export, map_location=device)
        method = "baseline" if args.loss == "ce" else config["method"]
        if method == "robustvit":
            raise ExportError("robustvit's relevance-map losses are not ported to PyTorch; pass --loss ce to fine-tune with cross-entropy")
        images, labels, _, _ = load_data(args.data, config)
        val = load_data(args.val, config) if args.val else None
        # Loss settings: the flag if given, else what the export carries from the webfam run, else webfam's default.
        exported = config.get("training", {})
        weights = {}
        for key, default in DEFAULT_TRAINING.items():
            given = getattr(args, key)
            weights[key] = float(given if given is not None else exported.get(key, default))
        objective = Objective(model, method, weights).to(device)
        ddp = nn.parallel.DistributedDataParallel(objective, device_ids=[device] if device.type == "cuda" else None) if distributed else objective
        opt = torch.optim.AdamW(param_groups(model, args.weight_decay), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
        torch.manual_seed(args.seed * 1000 + rank)  # noise, dropout and flips differ between processes
        order = torch.Generator().manual_seed(args.seed)  # the batch order is shared by all of them
        steps_per_epoch = len(labels) // args.batch_size
        if steps_per_epoch == 0:
            raise ExportError(f"--batch-size {args.batch_size} is larger than the {len(labels)} training images")
        total = steps_per_epoch * args.epochs
        warmup = min(total, round(args.warmup_epochs * steps_per_epoch))
        local = args.batch_size // world
        step = 0
        for epoch in range(args.epochs):
            model.train()
            perm = torch.randperm(len(labels), generator=order)
            loss_sum = 0.0
            for s in range(steps_per_epoch):
                idx = perm[s * args.batch_size:(s + 1) * args.batch_size][rank * local:(rank + 1) * local]
                x = images[idx]
                if args.augment:
                    flip = torch.rand(len(idx)) < 0.5
                    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
                x = normalize(x, config).to(device)
                lr = cosine_lr(step, args.lr, total, warmup, args.lr * 0.01)
                for g in opt.param_groups:
                    g["lr"] = lr
                terms = ddp(x, labels[idx].to(device))
                opt.zero_grad(set_to_none=True)
                terms["total"].backward()  # DDP averages the gradients over processes here
                if args.clip > 0:
                    nn.utils.clip_grad_norm_(model.parameters(), args.clip)
                opt.step()
                loss = terms["total"].detach()
                if distributed:
                    dist.all_reduce(loss)
                    loss /= world
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"loss became {loss.item()} at step {step}; the last saved weights are kept in {args.out}. Try a lower --lr or --clip.")
                loss_sum += loss.item()
                step += 1
            if rank == 0:
                config["training"] = dict(config.get("training", {}), **weights, continued_from=os.path.abspath(args.export),
                                          epochs=epoch + 1, steps=step, world_size=world)
                save_export(args.out, model, config)
                line = f"epoch {epoch + 1}/{args.epochs}: loss {loss_sum / steps_per_epoch:.4f}"
                if val is not None:
                    r = evaluate(model, config, val[0], val[1], val[2], batch_size=64, device=device)
                    line += f"  val acc {100 * r['avg_acc']:.1f}%" + (f"  worst group {100 * r['worst_group_acc']:.1f}%" if "worst_group_acc" in r else "")
                print(line, file=sys.stderr, flush=True)
            if distributed:
                dist.barrier()
        if rank == 0:
            print(f"saved {args.out} ({step} steps on {world} process{'es' if world > 1 else ''}); bring it back with: node train.js --import {args.out}")
        return 0
    except (ExportError, FloatingPointError) as e:
        print(f"webfam_torch.train: {e}", file=sys.stderr)
        return 2 if isinstance(e, ExportError) else 3
    finally:
        if distributed:
            dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
