"""Graph: labelled graphs (molecules, TU graph-kernel sets) as TokenGT node and edge tokens.

Payload: the labelled adjacency matrix `[n, n]` float32, n <= `max_nodes` (diagonal: node category
1..16, off-diagonal: edge type 0..4; see `omnivec2.tokens.graph`). Tokens: node tokens, then edge
tokens, then padding, `max_tokens` in all, with `eigenvectors` Laplacian eigenvectors as node
identifiers; random masking 0.3.
"""

from omnivec2.modalities.spec import MaskSpec, Modality, ModalityParts, PayloadSpec
from omnivec2.tokens.graph import NUM_CATEGORIES, GraphTokens


def build(s: dict) -> ModalityParts:
    nodes = int(s["max_nodes"])
    if nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {nodes}")
    return ModalityParts(
        payload=PayloadSpec(shape=(None, None), dtype="float32", value_range=(0.0, float(NUM_CATEGORIES)),
                            max_bytes=nodes * nodes * 4),
        tokenizer=GraphTokens(max_tokens=int(s["max_tokens"]), eigenvectors=int(s["eigenvectors"])),
        embedding="graph_tokens",
        mask=MaskSpec(ratio=0.3, strategy="random"),
    )


GRAPH = Modality(
    name="graph",
    settings={"max_nodes": 64, "max_tokens": 64, "eigenvectors": 8},
    help={"max_nodes": "largest graph accepted (nodes)", "max_tokens": "node + edge tokens kept per graph",
          "eigenvectors": "Laplacian eigenvectors per node identifier"},
    build=build,
    description="labelled graphs; TokenGT node + edge tokens",
)
