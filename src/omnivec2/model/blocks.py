"""Transformer building blocks on `scaled_dot_product_attention` (fused kernels on CPU and GPU)."""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel

# cuDNN's fused attention is left out on GPUs: its backward returned NaN gradients in stage 3 at the
# `base` preset on an H200 (bf16, torch 2.11 + CUDA 13; `python -m benchmarks.gpu_check --anomaly`
# named ScaledDotProductCudnnAttentionBackward0 in f's self-attention), a known cuDNN fault for some
# shapes (pytorch/pytorch#196678, NVIDIA/cudnn-frontend#1072). Flash and memory-efficient attention
# are the fused kernels used instead; the CPU path is unchanged.
GPU_ATTENTION_BACKENDS = [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, attend: torch.Tensor | None,
              dropout: float) -> torch.Tensor:
    """`scaled_dot_product_attention` over q [B, H, N, d], k and v [B, H, M, d], `attend` [B, 1, 1, M]
    bool (True: attend) or None -> [B, H, N, d]; on a GPU, without the cuDNN backend."""
    with sdpa_kernel(GPU_ATTENTION_BACKENDS) if q.is_cuda else contextlib.nullcontext():
        return F.scaled_dot_product_attention(q, k, v, attn_mask=attend, dropout_p=dropout)


class MLP(nn.Module):
    def __init__(self, dim: int, hidden: int, dropout: float = 0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.fc2(F.gelu(self.fc1(x))))


class Attention(nn.Module):
    """Multi-head attention; self-attention when `context` is None, else cross-attention to it."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0):
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None,
                key_padding: torch.Tensor | None = None) -> torch.Tensor:
        """x: [B, N, D], context: [B, M, D] or None -> [B, N, D]. key_padding: [B, M] (or [B, N] for
        self-attention) bool, True where a key is padding and must not be attended."""
        b, n, d = x.shape
        if context is None:
            # Self-attention: one [D, 3D] projection instead of two (fewer, larger matmuls; measured
            # in benchmarks (a)). The weights stay in `q` and `kv`, so checkpoints are unchanged.
            weight = torch.cat([self.q.weight, self.kv.weight])  # [3D, D]
            bias = torch.cat([self.q.bias, self.kv.bias])
            q, k, v = F.linear(x, weight, bias).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        else:
            m = context.shape[1]
            q = self.q(x).view(b, n, self.heads, d // self.heads).transpose(1, 2)  # [B, H, N, d]
            k, v = self.kv(context).view(b, m, 2, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)  # [B, H, M, d]
        attend = None if key_padding is None else ~key_padding[:, None, None, :]  # [B, 1, 1, M], True = attend
        out = attention(q, k, v, attend, self.dropout if self.training else 0.0)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class DropPath(nn.Module):
    """Stochastic depth (Huang et al. 2016): in training, a residual branch's output [B, ...] is zeroed
    for each sample with probability `rate` and the kept ones scaled by 1 / (1 - rate); identity in
    eval mode or at rate 0 (then no random number is drawn)."""

    def __init__(self, rate: float = 0.0):
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"drop_path must be in [0, 1), got {rate}")
        self.rate = rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0.0:
            return x
        keep = torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), device=x.device) >= self.rate  # [B, 1, ...]
        return x * keep.to(x.dtype) / (1.0 - self.rate)


class Block(nn.Module):
    """Pre-norm transformer block: x + DropPath(Attn(LN(x))), then x + DropPath(MLP(LN(x)))."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0, dropout: float = 0.0, drop_path: float = 0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, int(dim * mlp_ratio), dropout)
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, key_padding: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x), key_padding=key_padding))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class Transformer(nn.Module):
    """A stack of pre-norm blocks with a final LayerNorm: [B, N, D] -> [B, N, D]. With `drop_path`,
    block l = 1..depth drops its branches at rate drop_path * l / depth (the linear rule of Huang et al.)."""

    def __init__(self, dim: int, depth: int, heads: int, mlp_ratio: float = 4.0, dropout: float = 0.0,
                 drop_path: float = 0.0):
        super().__init__()
        rates = [drop_path * (i + 1) / depth for i in range(depth)]
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_ratio, dropout, rate) for rate in rates)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, key_padding: torch.Tensor | None = None) -> torch.Tensor:
        """key_padding: [B, N] bool, True at padding tokens (never attended to)."""
        for block in self.blocks:
            x = block(x, key_padding)
        return self.norm(x)


class CrossAttention(nn.Module):
    """A: residual, pre-norm cross-attention from one stream to the other: u = z + Attn(LN(z), LN(other)).

    Residual by construction, so removing it at inference (u = z) is exact rather than approximate.
    With `gated`, u = z + tanh(alpha) Attn(...), alpha a scalar starting at 0 (Flamingo's tanh gate):
    the pair path starts as the single-stream path and opens A only as far as training finds useful.
    """

    def __init__(self, dim: int, heads: int, dropout: float = 0.0, gated: bool = False):
        super().__init__()
        self.norm_q = nn.LayerNorm(dim)
        self.norm_kv = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, dropout)
        self.gate = nn.Parameter(torch.zeros(())) if gated else None

    def forward(self, z: torch.Tensor, other: torch.Tensor, other_padding: torch.Tensor | None = None) -> torch.Tensor:
        """z: [B, N, D], other: [B, M, D], other_padding: [B, M] bool or None -> [B, N, D]."""
        update = self.attn(self.norm_q(z), self.norm_kv(other), key_padding=other_padding)
        return z + (torch.tanh(self.gate) * update if self.gate is not None else update)
