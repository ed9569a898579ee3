"""The OmniVec2 network (Srivastava & Sharma, CVPR 2024), modality-agnostic: dict in, dict out.

Per stream (a dataset d of modality m, cached tokens t [B, N, P]):

    x = T_m(t) + pos_d + type_m               [B, N, D_f]   learnable tokenizer half (shared by m's datasets
                                                            where token shapes allow), positions, modality type
    z = FC(f(x))                              [B, n, D_g]   shared transformer f, FC layers D_f -> D_g
    u_a = z_a + A(z_a, z_b), u_b likewise     [B, n, D_g]   cross-attention between streams (training only)
    o = Fuse(g(u), z)                         [B, n, D_g]   shared transformer g, fused with f's features
    y = h_{d,task}(o)                                       one head per (dataset, task)

Inference is single-stream with A removed: o = Fuse(g(z), z). Because A is residual, this is
exactly the two-stream path with A switched off (the contract tests check it).
n = N, or the visible N_vis when masked pretraining drops tokens (MAE-style).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from omnivec2.model.blocks import CrossAttention, Transformer
from omnivec2.model.config import ModalityConfig, ModelConfig
from omnivec2.model.decoder import MaskedDecoder, gives_centres
from omnivec2.model.embeddings import UnifiedEmbedding, build_embedding, embedding_key, owns_positions
from omnivec2.model.fuse import Fuse
from omnivec2.model.heads import ORDERED_EMBEDDINGS, DenseHead, build_head
from omnivec2.model.unified_head import UNIFIED_KEY, ClassSlice, build_unified_heads
from omnivec2.model.masking import Mask, gather_tokens


@dataclass
class Stream:
    """One stream's input: its dataset (`modality` names the stream), cached tokens [B, N, P] and,
    in masked pretraining, its mask."""

    modality: str
    tokens: torch.Tensor
    mask: Mask | None = None


def head_key(modality: str, task: str) -> str:
    return f"{modality}__{task}"


def head_tokens(config: ModelConfig, modality: ModalityConfig) -> int:
    """How many tokens the stream's classification heads read flattened (`head_pooling`; with "select",
    how many their fitted read-out may read); 0: the mean."""
    if config.head_pooling not in ("mean", "flatten", "flatten_scaled", "select"):
        raise ValueError("model head_pooling must be 'mean', 'flatten', 'flatten_scaled' or 'select', "
                         f"got {config.head_pooling!r}")
    flatten = config.head_pooling != "mean" and modality.embedding in ORDERED_EMBEDDINGS
    return modality.num_tokens if flatten else 0


def dense_token_dim(config: ModelConfig, modality: ModalityConfig) -> int:
    """How many input values per token the stream's dense heads' fitted read-out reads beside the
    features (`dense_readout: select`); 0: none."""
    if config.dense_readout not in ("trained", "select"):
        raise ValueError(f"model dense_readout must be 'trained' or 'select', got {config.dense_readout!r}")
    return modality.token_dim if config.dense_readout == "select" else 0


def fc_reduction(dim_in: int, dim_out: int, layers: int) -> nn.Sequential:
    """f's FC layers: `layers` linear maps D_f -> D_g with GELU between them."""
    modules: list[nn.Module] = [nn.Linear(dim_in, dim_out)]
    for _ in range(layers - 1):
        modules += [nn.GELU(), nn.Linear(dim_out, dim_out)]
    return nn.Sequential(*modules)


class OmniVec2(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        if not config.modalities:
            raise ValueError("the model needs at least one modality")
        if not 0.0 <= config.cross_drop <= 1.0:
            raise ValueError(f"model.overrides.cross_drop: a probability in [0, 1], got {config.cross_drop}")
        self.config = config
        self.unified = UnifiedEmbedding(config.modalities, config.dim_f) if config.tokenizer == "unified" else None
        self.embeddings = nn.ModuleDict()  # by embedding_key: shared by a modality's datasets where shapes allow
        self.positions = nn.ParameterDict()  # by stream, for embeddings that add no positions themselves
        self.modality_type = nn.ParameterDict()  # by modality family
        self.decoders = nn.ModuleDict()
        self.heads = nn.ModuleDict()
        self.mask_embedding = nn.Parameter(torch.zeros(1, 1, config.dim_f))
        self.f = Transformer(config.dim_f, config.depth_f, config.heads_f, config.mlp_ratio, config.dropout,
                             config.drop_path)
        self.reduce = fc_reduction(config.dim_f, config.dim_g, config.fc_layers)
        self.cross = (CrossAttention(config.dim_g, config.cross_heads, config.dropout, config.cross_gate)
                      if config.cross_attention else None)
        self.g = Transformer(config.dim_g, config.depth_g, config.heads_g, config.mlp_ratio, config.dropout,
                             config.drop_path)
        self.fuse = Fuse(config.fuse, config.dim_g)
        for modality in config.modalities:
            self._build_modality(modality)
        if config.head_sharing == "unified":
            self._unify_classification_heads()
        elif config.head_sharing != "per_task":
            raise ValueError(f"model head_sharing must be 'per_task' or 'unified', got {config.head_sharing!r}")
        self.apply(_init_weights)
        for head in self.heads.values():
            if not isinstance(head, ClassSlice):  # a view: its shared head is scaled once, as an entry of its own
                _scale_head(head, config.head_init_scale)

    # ----- construction -------------------------------------------------------------------------
    def _build_modality(self, modality: ModalityConfig) -> list[nn.Module]:
        """Create the stream's own modules (and its modality's shared ones, the first time); returns
        the new ones (for initialisation)."""
        c = self.config
        new: list[nn.Module] = []
        if self.unified is None:
            key = embedding_key(modality)
            if key not in self.embeddings:
                self.embeddings[key] = build_embedding(modality, c.dim_f)
                new.append(self.embeddings[key])
            if not owns_positions(modality):
                self.positions[modality.name] = nn.Parameter(torch.randn(1, modality.num_tokens, c.dim_f) * 0.02)
        if modality.family not in self.modality_type:
            self.modality_type[modality.family] = nn.Parameter(torch.randn(1, 1, c.dim_f) * 0.02)
        centres = c.point_centres_to_decoder and gives_centres(modality)
        self.decoders[modality.name] = MaskedDecoder(modality, c.dim_g, c.decoder_dim, c.decoder_depth, c.decoder_heads,
                                                     centres)
        new.append(self.decoders[modality.name])
        for task in modality.tasks:
            self.heads[head_key(modality.name, task.name)] = build_head(
                task, c.dim_g, c.head_norm, head_tokens(c, modality), c.head_pooling == "flatten_scaled",
                c.head_pooling == "select", dense_token_dim(c, modality))
            new.append(self.heads[head_key(modality.name, task.name)])
        return new

    def _unify_classification_heads(self) -> None:
        """`head_sharing: unified`: every classification task's head becomes a view of one shared head
        over the union of their classes (see `unified_head`)."""
        tasks = [(head_key(m.name, t.name), t) for m in self.config.modalities for t in m.tasks
                 if t.kind == "classification"]
        if not tasks:
            raise ValueError("model head_sharing: unified needs at least one classification task")
        shared, views = build_unified_heads(tasks, self.config.dim_g, self.config.head_norm)
        for key, view in views.items():
            self.heads[key] = view
        self.heads[UNIFIED_KEY] = shared

    def add_modality(self, modality: ModalityConfig) -> None:
        """Attach a new modality (tokenizer half, type embedding, decoder, heads) to a trained network."""
        if modality.name in {m.name for m in self.config.modalities}:
            raise ValueError(f"stream {modality.name!r} already exists")
        if self.config.head_sharing == "unified":
            raise ValueError("adding a modality to a network with unified heads is not supported: its classes "
                             "would change the shared head's label space")
        if self.unified is not None:
            raise ValueError("adding a modality to a unified-tokenizer model is not supported")
        self.config = self.config.with_modalities((*self.config.modalities, modality))
        for module in self._build_modality(modality):
            module.apply(_init_weights)
        for task in modality.tasks:
            _scale_head(self.heads[head_key(modality.name, task.name)], self.config.head_init_scale)

    def tokenizer(self, stream: str) -> nn.Module:
        """The learnable tokenizer half a stream uses (shared with its modality's other datasets where
        their token shapes allow; see `embedding_key`)."""
        return self.unified if self.unified is not None else self.embeddings[embedding_key(self.config.modality(stream))]

    def shared_parameters(self) -> list[nn.Parameter]:
        """f, its FC layers, A, g and Fuse: what unseen-modality adaptation freezes (paper section 4.4)."""
        modules = [self.f, self.reduce, self.g, self.fuse] + ([self.cross] if self.cross is not None else [])
        return [p for m in modules for p in m.parameters()]

    # ----- one method per stage of the computation -------------------------------------------------
    def embed(self, modality: str, tokens: torch.Tensor, mask: Mask | None = None) -> torch.Tensor:
        """tokens [B, N, P] -> x [B, n, D_f]; with a mask, only the visible tokens (n = N_vis),
        or, for BERT-style "token" masking, all N with the hidden ones replaced by a mask embedding."""
        stream = self.config.modality(modality)
        strategy = stream.mask_strategy
        if mask is not None and strategy == "token":
            tokens = tokens.masked_fill(mask.masked.unsqueeze(-1), 0.0)
        x = self.tokenizer(modality)(tokens)
        if modality in self.positions:
            x = x + self.positions[modality]
        x = x + self.modality_type[stream.family]
        if mask is None:
            return x
        if strategy == "token":
            return x + mask.masked.unsqueeze(-1).to(x.dtype) * self.mask_embedding
        return gather_tokens(x, mask.keep)

    def encode_f(self, x: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, n, D_f] -> z [B, n, D_g]: shared transformer f, then the FC reduction."""
        return self.reduce(self.f(x, padding))

    def encode_g(self, u: torch.Tensor, z: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
        """o = Fuse(g(u), z): [B, n, D_g]."""
        return self.fuse(self.g(u, padding), z)

    def token_padding(self, modality: str, tokens: torch.Tensor) -> torch.Tensor | None:
        """[B, N] bool, True at the stream's padding tokens; None when `key_padding_mask` is off or the
        stream's tokenizer has no padding."""
        detect = getattr(self.tokenizer(modality), "padding", None) if self.unified is None else None
        if not self.config.key_padding_mask or detect is None:
            return None
        return detect(tokens)

    def padding(self, stream: Stream) -> torch.Tensor | None:
        """The padding of the n tokens the encoder sees ([B, n] bool), or None. A sample whose every
        visible token is padding (a small graph after MAE masking) is left unmasked: attention needs a key."""
        pad = self.token_padding(stream.modality, stream.tokens)
        if pad is None:
            return None
        if stream.mask is not None and self.config.modality(stream.modality).mask_strategy != "token":
            pad = torch.gather(pad, 1, stream.mask.keep)
        return pad & ~pad.all(dim=1, keepdim=True)

    # ----- whole passes ----------------------------------------------------------------------------
    def forward_stream(self, stream: Stream) -> torch.Tensor:
        """Single-stream inference, A removed: o [B, n, D_g]."""
        pad = self.padding(stream)
        z = self.encode_f(self.embed(stream.modality, stream.tokens, stream.mask), pad)
        return self.encode_g(z, z, pad)

    def forward_pair(self, a: Stream, b: Stream, use_cross: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """Two streams (sample i of a paired with sample i of b): (o_a, o_b)."""
        o_a, o_b = self.forward_streams([a, b], use_cross)
        return o_a, o_b

    def forward_streams(self, streams: list[Stream], use_cross: bool = True) -> list[torch.Tensor]:
        """K paired streams; A attends from stream i to stream (i + 1) mod K, so K = 2 is the
        bidirectional pair and K > 2 (fully joint training) is a ring. Returns each stream's o."""
        sizes = {s.tokens.shape[0] for s in streams}
        if len(sizes) > 1:
            raise ValueError(f"paired streams need equal batch sizes, got {[s.tokens.shape[0] for s in streams]}")
        pads = [self.padding(s) for s in streams]
        zs = [self.encode_f(self.embed(s.modality, s.tokens, s.mask), pad) for s, pad in zip(streams, pads)]
        us = zs
        if use_cross and self.cross is not None and len(zs) > 1:
            us = [self.cross(z, zs[(i + 1) % len(zs)], pads[(i + 1) % len(zs)]) for i, z in enumerate(zs)]
            if self.training and self.config.cross_drop > 0:
                us = [torch.where(torch.rand(len(z), 1, 1, device=z.device) < self.config.cross_drop, z, u)
                      for u, z in zip(us, zs)]
        return [self.encode_g(u, z, pad) for u, z, pad in zip(us, zs, pads)]

    def forward(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """{modality: tokens [B, N, P]} -> {modality: features o [B, N, D_g]}, each stream alone."""
        return {m: self.forward_stream(Stream(m, tokens)) for m, tokens in inputs.items()}

    def predict(self, modality: str, task: str, features: torch.Tensor, padding: torch.Tensor | None = None,
                tokens: torch.Tensor | None = None) -> torch.Tensor:
        """h_{m,t}(o): the task head's output; `padding` ([B, n], from `padding`) is left out of pooling;
        `tokens` [B, N, P]: the stream's input tokens, which a dense head's fitted read-out reads."""
        head = self.heads[head_key(modality, task)]
        return head(features, padding, tokens) if isinstance(head, DenseHead) else head(features, padding)

    def reconstruct(self, modality: str, features: torch.Tensor, mask: Mask,
                    tokens: torch.Tensor | None = None) -> torch.Tensor:
        """Masked pretraining decoder: visible features -> reconstructed tokens [B, N, P] (a table with
        categorical columns: [B, N, P + V], token values then category logits; see MaskedDecoder).
        `tokens` [B, N, P]: the stream's tokens, whose masked group centres `point_centres_to_decoder` gives."""
        return self.decoders[modality](features, mask, tokens)


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def _scale_head(head: nn.Module, scale: float) -> None:
    """Shrink a head's output layer at initialisation (MAE and MultiMAE start heads near zero, so the
    first steps do not push large random logits back through the pretrained layers)."""
    if scale != 1.0:
        with torch.no_grad():
            head.out.weight.mul_(scale)
