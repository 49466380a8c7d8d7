"""iFAM in PyTorch, the same computation as webfam's src/vit/ifam.ts (docs/methods.md):

stage 1, a ViT over the full image, assigns every patch to K foreground parts or the background by
its distance to K + 1 learned prototypes; part embeddings, modulated by a LayerNorm over (D, K + 1),
are classified by one shared linear layer and averaged over the foreground parts. The hard mask
keeps a patch when its strongest foreground part beats the background (max_fg A > A_bg), exactly 0
or 1 forward, with the straight-through gradient of the soft foreground share. Stage 2, a second
ViT over the same image, attends only to kept patches (multiplicative key mask in every block); its
class token, normalised by head_norm, goes through a bias-free head.

Gumbel noise and whole-part dropout are sampled in training only, as in webfam.
"""
import torch
from torch import nn

from .vit import VisionTransformer


def gumbel_like(x):
    u = torch.rand_like(x).clamp_(1e-10, 1.0 - 1e-7)
    return -torch.log(-torch.log(u))


class _ScaleGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        return g * ctx.scale, None


class PartHead(nn.Module):
    """Prototypes, the modulation LayerNorm over (D, K + 1) and the shared per-part classifier."""

    def __init__(self, dim, parts, num_classes):
        super().__init__()
        self.prototypes = nn.Parameter(torch.empty(parts + 1, dim))
        nn.init.trunc_normal_(self.prototypes, std=0.02)
        self.modulation = nn.LayerNorm([dim, parts + 1])  # PyTorch's default eps 1e-5, as webfam
        self.fc_class_landmarks = nn.Linear(dim, num_classes, bias=False)
        nn.init.trunc_normal_(self.fc_class_landmarks.weight, std=0.02)

    def part_logits(self, z):
        """l[b, n, k] = -||z_n - p_k||^2 for patch tokens z [B, N, D]."""
        zp = z @ self.prototypes.t()
        zz = z.square().sum(-1, keepdim=True)
        pp = self.prototypes.square().sum(-1)
        return zp * 2 - zz - pp


class IFAM(nn.Module):
    def __init__(self, vit_kwargs, num_classes, parts=4, tau=1.0, part_dropout=0.3, joint_grad=False,
                 joint_grad_scale=1.0):
        super().__init__()
        backbone = dict(vit_kwargs, num_classes=0)
        self.parts, self.tau, self.part_dropout = parts, tau, part_dropout
        self.joint_grad, self.joint_grad_scale = joint_grad, joint_grad_scale
        self.stage1 = VisionTransformer(**backbone)
        self.part_head = PartHead(self.stage1.embed_dim, parts, num_classes)
        self.stage2 = VisionTransformer(**backbone)
        self.head_norm = nn.LayerNorm(self.stage1.embed_dim, eps=backbone.get("norm_eps", 1e-6))
        self.head = nn.Linear(self.stage1.embed_dim, num_classes, bias=False)
        nn.init.trunc_normal_(self.head.weight, std=0.02)

    def _part_drop_keep(self, B, ref):
        """1 for kept foreground parts [B, K], each dropped with probability part_dropout (no rescaling)."""
        return (torch.rand(B, self.parts, device=ref.device) >= self.part_dropout).to(ref.dtype)

    def part_discovery(self, x, noise=None):
        """Stage 1: part maps [B, K+1, g, g], part logits [B, N, K+1], part embeddings, stage-1 logits."""
        K = self.parts
        z = self.stage1.forward_features(x)[:, self.stage1.num_prefix_tokens:]  # [B, N, D]
        B, N, _ = z.shape
        g = round(N ** 0.5)
        part_logits = self.part_head.part_logits(z)
        noisy = part_logits + gumbel_like(part_logits) if (self.training if noise is None else noise) else part_logits
        A = (noisy / self.tau).softmax(-1)  # [B, N, K+1]
        v = (A.transpose(1, 2) @ z) / N  # [B, K+1, D]
        vm = self.part_head.modulation(v.transpose(1, 2)).transpose(1, 2)
        fg = vm[:, :K]
        if self.training and self.part_dropout > 0:
            fg = fg * self._part_drop_keep(B, fg)[:, :, None]
        logits = self.part_head.fc_class_landmarks(fg).mean(1)
        maps = A.transpose(1, 2).reshape(B, K + 1, g, g)
        return {"maps": maps, "part_logits": part_logits, "parts": vm, "logits": logits}

    def hard_mask(self, part_logits, noise=None, disabled_parts=()):
        """[B, N]: 1 where the strongest foreground part beats the background; straight-through gradient."""
        K = self.parts
        noisy = part_logits + gumbel_like(part_logits) if (self.training if noise is None else noise) else part_logits
        A = (noisy / self.tau).softmax(-1)
        if self.training and self.part_dropout > 0:
            keep = torch.cat([self._part_drop_keep(A.shape[0], A), torch.ones(A.shape[0], 1, device=A.device, dtype=A.dtype)], 1)
            A = A * keep[:, None, :]
        if disabled_parts:
            keep = torch.ones(K + 1, dtype=A.dtype, device=A.device)
            keep[list(disabled_parts)] = 0
            A = A * keep
        fg, bg = A[..., :K], A[..., K]
        hard = (fg.amax(-1) > bg).to(A.dtype)
        soft = fg.sum(-1)
        return hard + (soft - soft.detach())  # exactly `hard` forward, d soft backward

    def forward(self, x, noise=None, disabled_parts=()):
        """{"logits": stage-2 logits, "mask": [B, N], "stage1": part_discovery's outputs}."""
        stage1 = self.part_discovery(x, noise)
        mask = self.hard_mask(stage1["part_logits"], noise, disabled_parts)
        if not self.joint_grad:
            mask = mask.detach()
        elif self.joint_grad_scale != 1:
            mask = _ScaleGrad.apply(mask, self.joint_grad_scale)
        cls = self.stage2.forward_features(x, key_mask=mask)[:, 0]
        return {"logits": self.head(self.head_norm(cls)), "mask": mask, "stage1": stage1}
