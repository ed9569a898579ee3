"""The attention call: on a GPU it runs without cuDNN's fused attention (NaN gradients on H200)."""

import torch

from omnivec2.model import blocks


class PretendCuda(torch.Tensor):
    """A CPU tensor that reports itself as a CUDA one, to follow the GPU branch on a CPU machine."""

    @property
    def is_cuda(self):
        return True


def test_gpu_attention_runs_with_cudnn_attention_switched_off_and_cpu_attention_is_untouched(monkeypatch):
    seen = []
    sdpa = torch.nn.functional.scaled_dot_product_attention

    def recording(*args, **kwargs):
        seen.append(torch.backends.cuda.cudnn_sdp_enabled())
        return sdpa(*args, **kwargs)

    monkeypatch.setattr(blocks.F, "scaled_dot_product_attention", recording)
    layer = blocks.Attention(dim=8, heads=2)
    x = torch.randn(2, 5, 8)
    cpu = layer(x)
    gpu = layer(x.as_subclass(PretendCuda))
    assert seen == [torch.backends.cuda.cudnn_sdp_enabled(), False]
    assert torch.backends.cuda.cudnn_sdp_enabled()  # restored after the call
    assert torch.allclose(cpu, gpu.as_subclass(torch.Tensor))
    assert torch.nn.attention.SDPBackend.CUDNN_ATTENTION not in blocks.GPU_ATTENTION_BACKENDS
