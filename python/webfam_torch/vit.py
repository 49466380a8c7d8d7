"""A Vision Transformer with timm's layout, parameter names and arguments, doing what webfam's
src/vit/vit.ts does: pre-norm blocks, fused qkv, optional LayerScale (ls1.gamma / ls2.gamma),
register tokens, position embeddings over the patches only (no_embed_class) or over every token,
exact GELU, one LayerNorm epsilon for the whole model.

Its state dict loads into `timm.models.vision_transformer.VisionTransformer(**kwargs)` with the same
arguments, and back. The one addition is `key_mask` ([B, T] weights, 1 keep, 0 drop) in every
block: iFAM's stage 2 removes masked patches as keys and values, written multiplicatively
(a_ij = m_j exp(s_ij) / sum_k m_k exp(s_ik), see docs/methods.md) so the mask has a gradient.
"""

import torch
from torch import nn


def masked_softmax(scores, key_mask):
    """softmax over the last axis with keys weighted by key_mask [B, Tk] (broadcast over heads and queries)."""
    if key_mask is None:
        return scores.softmax(-1)
    m = key_mask[:, None, None, :].to(scores.dtype)
    # The shift cancels in the ratio; taking it over every key keeps exp() finite for masked keys too,
    # whose exp(s_ij) is what d a / d m_j needs.
    shift = scores.detach().amax(-1, keepdim=True)
    e = torch.exp(scores - shift) * m
    return e / e.sum(-1, keepdim=True)


class PatchEmbed(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, embed_dim):
        super().__init__()
        self.img_size, self.patch_size = img_size, patch_size
        self.grid = img_size // patch_size
        self.num_patches = self.grid * self.grid
        self.proj = nn.Conv2d(in_chans, embed_dim, patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # [B, N, D], row-major patch order


class Attention(nn.Module):
    def __init__(self, dim, num_heads, qkv_bias):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, key_mask=None):
        B, T, D = x.shape
        q, k, v = self.qkv(x).reshape(B, T, 3, self.num_heads, D // self.num_heads).permute(2, 0, 3, 1, 4).unbind(0)
        a = masked_softmax((q @ k.transpose(-2, -1)) * self.scale, key_mask)
        return self.proj((a @ v).transpose(1, 2).reshape(B, T, D))


class LayerScale(nn.Module):
    def __init__(self, dim, init_values):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((dim,), float(init_values)))

    def forward(self, x):
        return x * self.gamma


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()  # exact (erf) GELU, as timm and webfam
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def drop_path(x, p, training):
    """Stochastic depth: zeroes a residual branch for whole samples and rescales the others."""
    if not training or p == 0:
        return x
    keep = (torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), device=x.device) >= p).to(x.dtype) / (1 - p)
    return x * keep


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio, qkv_bias, init_values, drop_path_rate, norm_eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, num_heads, qkv_bias)
        self.ls1 = LayerScale(dim, init_values) if init_values else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))  # timm sizes it so
        self.ls2 = LayerScale(dim, init_values) if init_values else nn.Identity()
        self.drop_path_rate = drop_path_rate

    def forward(self, x, key_mask=None):
        x = x + drop_path(self.ls1(self.attn(self.norm1(x), key_mask)), self.drop_path_rate, self.training)
        return x + drop_path(self.ls2(self.mlp(self.norm2(x))), self.drop_path_rate, self.training)


class VisionTransformer(nn.Module):
    """timm's VisionTransformer with class-token pooling; accepts timm's arguments of the same names."""

    def __init__(self, img_size=224, patch_size=16, in_chans=3, num_classes=1000, embed_dim=768, depth=12,
                 num_heads=12, mlp_ratio=4.0, qkv_bias=True, init_values=None, class_token=True,
                 no_embed_class=False, reg_tokens=0, global_pool="token", drop_path_rate=0.0, norm_eps=1e-6,
                 **unused):
        super().__init__()
        if not class_token or global_pool != "token":
            raise ValueError("webfam's ViT pools the class token: class_token must be true and global_pool 'token'")
        if unused:
            raise ValueError(f"VisionTransformer: arguments this ViT does not implement: {', '.join(sorted(unused))}")
        self.num_classes, self.embed_dim, self.reg_tokens = num_classes, embed_dim, reg_tokens
        self.no_embed_class = no_embed_class
        self.num_prefix_tokens = 1 + reg_tokens
        # Registration order is timm's state-dict order.
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.reg_token = nn.Parameter(torch.zeros(1, reg_tokens, embed_dim)) if reg_tokens else None
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        embed_len = self.patch_embed.num_patches + (0 if no_embed_class else self.num_prefix_tokens)
        self.pos_embed = nn.Parameter(torch.zeros(1, embed_len, embed_dim))
        rates = [drop_path_rate * i / (depth - 1) if depth > 1 else drop_path_rate for i in range(depth)]
        self.blocks = nn.ModuleList(Block(embed_dim, num_heads, mlp_ratio, qkv_bias, init_values, r, norm_eps) for r in rates)
        self.norm = nn.LayerNorm(embed_dim, eps=norm_eps)
        self.head = nn.Linear(embed_dim, num_classes) if num_classes > 0 else nn.Identity()
        self.init_weights()

    def init_weights(self):
        """timm's initialisation (truncated normals, zero biases); loading weights replaces it."""
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        if self.reg_token is not None:
            nn.init.normal_(self.reg_token, std=1e-6)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def embed(self, x):
        """Patch embedding, prefix tokens and position embeddings: [B, T, D]."""
        B, _, H, W = x.shape
        if H != self.patch_embed.img_size or W != self.patch_embed.img_size:
            raise ValueError(f"expected {self.patch_embed.img_size}x{self.patch_embed.img_size} images, got {H}x{W}")
        x = self.patch_embed(x)
        prefix = [self.cls_token.expand(B, -1, -1)]
        if self.reg_token is not None:
            prefix.append(self.reg_token.expand(B, -1, -1))
        if self.no_embed_class:
            return torch.cat(prefix + [x + self.pos_embed], dim=1)
        return torch.cat(prefix + [x], dim=1) + self.pos_embed

    def full_key_mask(self, mask, B):
        """A [B, N] patch mask widened with ones for the prefix tokens (which are always kept)."""
        if mask.shape[1] == self.patch_embed.num_patches:
            ones = torch.ones(B, self.num_prefix_tokens, dtype=mask.dtype, device=mask.device)
            return torch.cat([ones, mask], dim=1)
        return mask

    def forward_features(self, x, key_mask=None):
        """Final-norm tokens [B, T, D]; key_mask [B, N] or [B, T] removes tokens as keys in every block."""
        x = self.embed(x)
        if key_mask is not None:
            key_mask = self.full_key_mask(key_mask, x.shape[0])
        for blk in self.blocks:
            x = blk(x, key_mask)
        return self.norm(x)

    def forward_head(self, tokens, pre_logits=False):
        cls = tokens[:, 0]
        return cls if pre_logits else self.head(cls)

    def forward(self, x, key_mask=None):
        return self.forward_head(self.forward_features(x, key_mask))
