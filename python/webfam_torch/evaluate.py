"""Evaluate a webfam export in PyTorch on a data file:

    python3 -m webfam_torch.evaluate runs/x/pytorch [--data runs/x/pytorch/data/test.safetensors] [--logits out.safetensors]

prints average accuracy, per-group and worst-group accuracy (when the file has places) and, for
iFAM, the share of patches the hard mask keeps; --logits writes the logits (and iFAM's masks) for
comparison with webfam's; --json ends stdout with one JSON line.
"""
import argparse
import json
import os
import sys

import torch

from .export import ExportError, load_data, load_export, normalize
from .safetensors import save_file


@torch.no_grad()
def predict(model, config, images, batch_size=64, device="cpu"):
    """Logits [N, C] and, for iFAM, the deterministic hard masks [N, patches]."""
    model.eval()
    logits, masks = [], []
    for i in range(0, len(images), batch_size):
        x = normalize(images[i:i + batch_size], config).to(device)
        if config["method"] == "ifam":
            out = model(x)
            logits.append(out["logits"].cpu())
            masks.append(out["mask"].cpu())
        else:
            logits.append(model(x).cpu())
    return torch.cat(logits), (torch.cat(masks) if masks else None)


def evaluate(model, config, images, labels, places=None, batch_size=64, device="cpu", group_names=None, num_places=None):
    logits, masks = predict(model, config, images, batch_size, device)
    right = (logits.argmax(1) == labels).float()
    result = {"n": len(labels), "avg_acc": right.mean().item(), "logits": logits, "mask": masks}
    if places is not None:
        num_places = num_places or int(places.max().item()) + 1
        groups = labels * num_places + places
        accs = {}
        for g in sorted(set(groups.tolist())):
            name = group_names[g] if group_names and g < len(group_names) else f"y={g // num_places},place={g % num_places}"
            sel = groups == g
            accs[name] = {"acc": right[sel].mean().item(), "n": int(sel.sum())}
        result["groups"] = accs
        result["worst_group_acc"] = min(v["acc"] for v in accs.values())
    if masks is not None:
        result["mask_keep_ratio"] = masks.mean().item()
    return result


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m webfam_torch.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("export", help="export directory (node train.js --export, or webfam_torch.train --out)")
    p.add_argument("--data", help="data file (default: <export>/data/test.safetensors)")
    p.add_argument("--logits", help="write logits (and iFAM masks) to this safetensors file")
    p.add_argument("--batch-size", type=int, default=64, help="images per forward pass (default: 64)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="cuda or cpu (default: cuda when there is one)")
    p.add_argument("--json", action="store_true", help="end stdout with one JSON line of the figures")
    args = p.parse_args(argv)
    data = args.data or os.path.join(args.export, "data", "test.safetensors")
    try:
        model, config = load_export(args.export, map_location=args.device)
        if not os.path.exists(data):
            raise ExportError(f"{data} does not exist; give --data FILE, or export with node train.js --export ... --with-data")
        images, labels, places, metadata = load_data(data, config)
    except ExportError as e:
        print(f"webfam_torch.evaluate: {e}", file=sys.stderr)
        return 2
    group_names = json.loads(metadata["webfam.groups"]) if "webfam.groups" in metadata else None
    num_places = len(json.loads(metadata["webfam.places"])) if "webfam.places" in metadata else None
    r = evaluate(model, config, images, labels, places, args.batch_size, args.device, group_names, num_places)
    if args.logits:
        out = {"logits": r["logits"]}
        if r["mask"] is not None:
            out["mask"] = r["mask"]
        save_file(out, args.logits)
    figures = {k: v for k, v in r.items() if k not in ("logits", "mask")}
    lines = [f"{config['method']} in PyTorch on {data} ({r['n']} images)"]
    for name, g in figures.get("groups", {}).items():
        lines.append(f"  {name:<30} {100 * g['acc']:5.1f}%  {g['n']}")
    lines.append(f"  {'average':<30} {100 * r['avg_acc']:5.1f}%")
    if "worst_group_acc" in r:
        lines.append(f"  {'worst group':<30} {100 * r['worst_group_acc']:5.1f}%")
    if "mask_keep_ratio" in r:
        lines.append(f"  {'patches kept by the mask':<30} {100 * r['mask_keep_ratio']:5.1f}%")
    print("\n".join(lines))
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
