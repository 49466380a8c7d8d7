"""The training losses of webfam's `node train.js` in PyTorch (src/train/methods.ts batchLoss and
src/vit/part_losses.ts): cross-entropy with label smoothing for a plain ViT; for iFAM the stage-2
and stage-1 cross-entropies plus the part-discovery losses, weighted as the export's "training"
settings say.
"""
import math

import torch
import torch.nn.functional as F


def presence_loss(maps):
    """1 - mean_k max_{b,h,w} avgpool3x3(A_k) over foreground parts: every part shows up somewhere."""
    pooled = F.avg_pool2d(maps[:, :-1], 3, 1, 1)
    return 1 - pooled.transpose(0, 1).reshape(maps.shape[1] - 1, -1).amax(1).mean()


def orthogonality_loss(parts):
    """mean((C - I)^2) with C the cosine similarities between the K+1 part embeddings."""
    unit = parts / (parts.square().sum(-1, keepdim=True) + 1e-12).sqrt()
    C = unit @ unit.transpose(1, 2)
    return (C - torch.eye(parts.shape[1], device=parts.device, dtype=parts.dtype)).square().mean()


def total_variation_loss(maps):
    B, _, h, w = maps.shape
    dh = (maps[:, :, 1:] - maps[:, :, :-1]).abs().sum()
    dw = (maps[:, :, :, 1:] - maps[:, :, :, :-1]).abs().sum()
    return (dh + dw) / (B * h * w)


def radial_weight(h, w, device=None):
    """0 at the image centre, 1 at the corners (patch centres), [h * w]."""
    cy, cx = (h - 1) / 2, (w - 1) / 2
    far = math.hypot(cy, cx) or 1.0
    r = [math.hypot(y - cy, x - cx) / far for y in range(h) for x in range(w)]
    return torch.tensor(r, dtype=torch.float32, device=device)


def background_presence_loss(maps):
    """-log of the background's strongest pooled share near the borders: it must be present there."""
    B, _, h, w = maps.shape
    pooled = F.avg_pool2d(maps[:, -1:], 3, 1, 1).reshape(B, h * w)
    peak = (pooled * radial_weight(h, w, maps.device)[None]).amax(1)
    return -peak.clamp(1e-6, 1).log().mean()


def entropy_loss(maps):
    return -(maps * (maps + 1e-8).log()).sum(1).mean()


def random_affine(B, generator=None):
    """theta [B, 2, 3]: rotation within +-90 degrees, scale 0.8-1.4, shift <= 0.11, output -> input."""
    u = torch.rand(B, 4, generator=generator)
    a = (u[:, 0] * 2 - 1) * (math.pi / 2)
    s = 0.8 + u[:, 1] * 0.6
    tx, ty = (u[:, 2] * 2 - 1) * 0.11, (u[:, 3] * 2 - 1) * 0.11
    c, si = torch.cos(a) / s, torch.sin(a) / s
    return torch.stack([c, -si, tx, si, c, ty], 1).reshape(B, 2, 3)


def warp(x, theta):
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def equivariance_loss(maps_of_warped, warped_maps):
    """1 - mean cosine similarity of A(T(x)) and T(A(x)) over images and foreground parts."""
    B, K1 = maps_of_warped.shape[:2]
    a = maps_of_warped[:, :-1].reshape(B, K1 - 1, -1)
    b = warped_maps[:, :-1].reshape(B, K1 - 1, -1)
    dot = (a * b).sum(-1)
    na = (a.square().sum(-1) + 1e-12).sqrt()
    nb = (b.square().sum(-1) + 1e-12).sqrt()
    return 1 - (dot / (na * nb)).mean()


# The flags of `node train.js` these weights come from, and their defaults there.
DEFAULT_TRAINING = {
    "label_smoothing": 0.1, "w_stage1": 0.0, "w_stage2": 1.0, "w_presence": 1.0, "w_equivariance": 1.0,
    "w_orthogonality": 1.0, "w_tv": 0.2, "w_background": 2.0, "w_entropy": 1.0,
}


def batch_loss(method, model, images, labels, w):
    """{"total": weighted sum, and every term}; `model` is the bare module (not the DDP wrapper)."""
    ls = w["label_smoothing"]
    if method != "ifam":
        ce = F.cross_entropy(model(images), labels, label_smoothing=ls)
        return {"ce": ce, "total": ce}
    out = model(images)
    maps = out["stage1"]["maps"]
    terms = {
        "ce2": (F.cross_entropy(out["logits"], labels, label_smoothing=ls), w["w_stage2"]),
        "ce1": (F.cross_entropy(out["stage1"]["logits"], labels, label_smoothing=ls), w["w_stage1"]),
    }
    for name, weight, fn, arg in [
        ("presence", w["w_presence"], presence_loss, maps),
        ("orthogonality", w["w_orthogonality"], orthogonality_loss, out["stage1"]["parts"]),
        ("tv", w["w_tv"], total_variation_loss, maps),
        ("background", w["w_background"], background_presence_loss, maps),
        ("entropy", w["w_entropy"], entropy_loss, maps),
    ]:
        if weight:
            terms[name] = (fn(arg), weight)
    if w["w_equivariance"]:
        theta = random_affine(images.shape[0])
        with torch.no_grad():
            warped = warp(images, theta)
        terms["equivariance"] = (equivariance_loss(model.part_discovery(warped)["maps"], warp(maps, theta)), w["w_equivariance"])
    total = sum(t * weight for t, weight in terms.values())
    return {**{k: t for k, (t, _) in terms.items()}, "total": total}
