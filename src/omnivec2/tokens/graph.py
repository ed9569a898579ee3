"""Graph payloads and the deterministic half of the TokenGT tokenizer (Kim et al., NeurIPS 2022).

The payload of one graph is its labelled adjacency matrix, float32 `[n, n]` (n nodes, 1..64):

* diagonal `A[v, v]` = node category + 1, in 1..16 (for molecules the category is the index of the
  element in `ELEMENTS`; for TU graphs the node label);
* off-diagonal `A[u, v] = A[v, u]` = bond type, 0 for no edge, else 1 single, 2 double, 3 triple,
  4 aromatic (V2000 bond codes; for TU graphs the edge label + 1).

So bond endpoints are in range by construction, the node count is bounded by the payload size
(`max_bytes`) and unknown categories or bond types exceed the declared value range (0..16).
`payload_problem` is the strict per-graph check (square, symmetric, whole numbers, codes in range).

Tokens (`GraphTokens.transform`): one token per node (atom order), then one per edge (u < v, in
(u, v) order), then padding, cropped/padded to `max_tokens`; graphs whose n + m exceeds it keep
all their nodes and their first edges. Features of one token `[P]`, P = 3 + 16 + 4 + 7 + 2k:

| slice           | node v                      | edge (u, v)                     | padding |
|-----------------|-----------------------------|---------------------------------|---------|
| type [3]        | (1, 0, 0)                   | (0, 1, 0)                       | (0,0,1) |
| category [16]   | one-hot of v's category     | one-hot(u) + one-hot(v)         | 0       |
| bond [4]        | 0                           | one-hot of the bond type        | 0       |
| degree [7]      | one-hot of min(deg v, 6)    | 0                               | 0       |
| Laplacian [2k]  | (phi_v, phi_v)              | (phi_u, phi_v)                  | 0       |

phi_v `[k]` is v's row in the k eigenvectors of the normalised Laplacian L = I - D^-1/2 A D^-1/2
after the one of smallest eigenvalue (TokenGT's node identifiers); graphs with n <= k pad with
zeros. Each eigenvector's sign is fixed by making its first entry with |x| > 1e-6 positive, and
entries are rounded to 1e-6. Within a repeated eigenvalue (symmetric molecules) the basis is
whatever LAPACK returns: deterministic on one machine, not canonical.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

# Node categories: elements of organic molecules (and their salts), in atomic-number order.
ELEMENTS = ("H", "B", "C", "N", "O", "F", "Na", "Si", "P", "S", "Cl", "K", "Se", "Br", "Sn", "I")
NUM_CATEGORIES = len(ELEMENTS)  # 16
NUM_BOND_TYPES = 4  # single, double, triple, aromatic
MAX_NODES = 64
MAX_DEGREE = 6  # degree one-hot: 0..5 and 6+
TYPE_NODE, TYPE_EDGE, TYPE_PAD = 0, 1, 2
_SIGN_TOLERANCE = 1e-6


def encode_graph(categories: Sequence[int], edges: Sequence[tuple[int, int, int]]) -> np.ndarray:
    """Node categories `[n]` (0-based) and edges (u, v, bond type 1..4), 0-based -> payload `[n, n]` float32."""
    n = len(categories)
    adjacency = np.zeros((n, n), dtype=np.float32)
    adjacency[np.arange(n), np.arange(n)] = np.asarray(categories, dtype=np.float32) + 1.0
    for u, v, bond in edges:
        adjacency[u, v] = adjacency[v, u] = bond
    return adjacency


def payload_problem(adjacency: np.ndarray) -> str | None:
    """Why a payload is not a valid graph (strict), or None."""
    a = np.asarray(adjacency)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        return f"adjacency of shape {a.shape} is not square"
    n = a.shape[0]
    if not 1 <= n <= MAX_NODES:
        return f"{n} nodes, expected 1..{MAX_NODES}"
    if not np.isfinite(a).all() or (a != np.round(a)).any():
        return "adjacency holds values that are not whole numbers"
    diagonal = np.diag(a)
    if diagonal.min() < 1 or diagonal.max() > NUM_CATEGORIES:
        return f"node category codes {int(diagonal.min())}..{int(diagonal.max())} outside 1..{NUM_CATEGORIES}"
    off = a[~np.eye(n, dtype=bool)]
    if off.size and (off.min() < 0 or off.max() > NUM_BOND_TYPES):
        return f"bond types {int(off.min())}..{int(off.max())} outside 0..{NUM_BOND_TYPES}"
    if not np.array_equal(a, a.T):
        return "adjacency is not symmetric"
    return None


def decode_graph(adjacency: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Payload `[n, n]` -> (categories `[n]` int64 0-based, edges `[m, 3]` int64 rows (u, v, bond), u < v).

    Lenient: reads the upper triangle, rounds, and clips codes into range (validation's
    `payload_problem` is the strict check); raises ValueError for a non-square matrix.
    """
    a = np.asarray(adjacency, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"graph payload of shape {a.shape} is not a square adjacency matrix")
    codes = np.rint(np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0))
    categories = np.clip(np.diag(codes), 1, NUM_CATEGORIES).astype(np.int64) - 1
    u, v = np.triu_indices(a.shape[0], k=1)
    bonds = codes[u, v]
    present = bonds >= 1
    edges = np.stack([u[present], v[present], np.minimum(bonds[present], NUM_BOND_TYPES)], axis=1).astype(np.int64)
    return categories, edges


def laplacian_ids(adjacencies: np.ndarray, k: int) -> np.ndarray:
    """0/1 adjacency matrices `[G, n, n]` (same n) -> node identifiers `[G, n, k]` (see module docstring)."""
    g, n, _ = adjacencies.shape
    degree = adjacencies.sum(axis=2)  # [G, n]
    inv_sqrt = np.where(degree > 0, 1.0 / np.sqrt(np.maximum(degree, 1e-12)), 0.0)
    laplacian = np.eye(n)[None] - inv_sqrt[:, :, None] * adjacencies * inv_sqrt[:, None, :]
    _, vectors = np.linalg.eigh(laplacian)  # ascending eigenvalues; columns are eigenvectors
    vectors = vectors[:, :, 1 : k + 1]  # drop the trivial (smallest) one
    first = np.argmax(np.abs(vectors) > _SIGN_TOLERANCE, axis=1)  # [G, k] first clearly non-zero entry
    signs = np.sign(np.take_along_axis(vectors, first[:, None, :], axis=1))
    # Rounded so that round-off (1e-16 entries) does not differ between BLAS builds.
    vectors = np.round(vectors * np.where(signs == 0, 1.0, signs), 6) + 0.0
    out = np.zeros((g, n, k))
    out[:, :, : vectors.shape[2]] = vectors
    return out


@dataclass(frozen=True)
class GraphTokens:
    """Graphs `[n, n]` -> TokenGT tokens `[max_tokens, 30 + 2 * eigenvectors]` float32 (no fitted statistics)."""

    max_tokens: int = 64
    eigenvectors: int = 8

    @property
    def token_dim(self) -> int:
        return 3 + NUM_CATEGORIES + NUM_BOND_TYPES + (MAX_DEGREE + 1) + 2 * self.eigenvectors

    def config(self) -> dict:
        return {"kind": "graph_tokens", "categories": NUM_CATEGORIES, **asdict(self)}

    def fit(self, train_samples: Sequence[np.ndarray]) -> dict:
        return {}

    def transform(self, samples: Sequence[np.ndarray], stats: dict) -> np.ndarray:
        """Payloads `[n_i, n_i]` -> tokens `[B, max_tokens, P]`; eigendecompositions batched by node count."""
        graphs = [decode_graph(s) for s in samples]
        phis: list[np.ndarray | None] = [None] * len(graphs)
        by_size: dict[int, list[int]] = {}
        for i, (categories, _) in enumerate(graphs):
            by_size.setdefault(len(categories), []).append(i)
        for n, members in by_size.items():
            binary = np.zeros((len(members), n, n))
            for row, i in enumerate(members):
                edges = graphs[i][1]
                binary[row, edges[:, 0], edges[:, 1]] = binary[row, edges[:, 1], edges[:, 0]] = 1.0
            for row, phi in zip(members, laplacian_ids(binary, self.eigenvectors)):
                phis[row] = phi
        tokens = np.zeros((len(graphs), self.max_tokens, self.token_dim), dtype=np.float32)
        for i, ((categories, edges), phi) in enumerate(zip(graphs, phis)):
            self._fill(tokens[i], categories, edges, phi)
        return tokens

    def _fill(self, out: np.ndarray, categories: np.ndarray, edges: np.ndarray, phi: np.ndarray) -> None:
        """Write one graph's tokens into `out` `[max_tokens, P]` (zeros on entry)."""
        n, k = len(categories), self.eigenvectors
        cat0, bond0, deg0, lap0 = 3, 3 + NUM_CATEGORIES, 3 + NUM_CATEGORIES + NUM_BOND_TYPES, self.token_dim - 2 * k
        degree = np.bincount(edges[:, :2].ravel(), minlength=n) if len(edges) else np.zeros(n, np.int64)
        nodes = min(n, self.max_tokens)
        rows = np.arange(nodes)
        out[rows, TYPE_NODE] = 1.0
        out[rows, cat0 + categories[:nodes]] = 1.0
        out[rows, deg0 + np.minimum(degree[:nodes], MAX_DEGREE)] = 1.0
        out[rows, lap0 : lap0 + k] = phi[:nodes]
        out[rows, lap0 + k :] = phi[:nodes]
        kept = edges[: self.max_tokens - nodes]
        rows = nodes + np.arange(len(kept))
        u, v = kept[:, 0], kept[:, 1]
        out[rows, TYPE_EDGE] = 1.0
        np.add.at(out, (rows, cat0 + categories[u]), 1.0)
        np.add.at(out, (rows, cat0 + categories[v]), 1.0)
        out[rows, bond0 + kept[:, 2] - 1] = 1.0
        out[rows, lap0 : lap0 + k] = phi[u]
        out[rows, lap0 + k :] = phi[v]
        out[nodes + len(kept) :, TYPE_PAD] = 1.0

    def payload_problem(self, adjacency: np.ndarray) -> str | None:
        """Strict structural check of one payload (for validation; see the module docstring)."""
        return payload_problem(adjacency)
