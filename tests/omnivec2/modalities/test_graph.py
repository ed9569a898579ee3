"""Graph modality: the bundled solubility molecules, SDF and TU readers, TokenGT tokens, bad input."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import torch

from tests.default_suite import DATASETS


from omnivec2.data.sample_table import decode_payload  # noqa: E402
from omnivec2.data.sources import SourceError, load_source  # noqa: E402
from omnivec2.data.sources.sdf import parse_sdf  # noqa: E402
from omnivec2.datasets import resolve_dataset  # noqa: E402
from omnivec2.model.config import modality_config_from_spec  # noqa: E402
from omnivec2.model.embeddings_graph import GraphTokenEmbedding  # noqa: E402
from omnivec2.tokens.cache import build_token_cache  # noqa: E402
from omnivec2.tokens.graph import ELEMENTS, GraphTokens, encode_graph, payload_problem  # noqa: E402
from omnivec2.validation import validate_sample_table  # noqa: E402

SPEC = DATASETS["graph"]
C, N, O = ELEMENTS.index("C"), ELEMENTS.index("N"), ELEMENTS.index("O")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return load_source(SPEC, SPEC.source, seed=0)


# ----- the default source --------------------------------------------------------------------------
def test_solubility_official_split_counts_and_classes(table):
    assert len(table) == 1282 and table["sample_id"].is_unique
    assert table["split"].value_counts().to_dict() == {"train": 922, "val": 103, "test": 257}
    assert table[table["split"] == "test"]["sample_id"].str.startswith("solubility-test-").all()
    assert table[table["split"] == "val"]["sample_id"].str.startswith("solubility-train-").all()
    assert table["solubility"].value_counts().sort_index().tolist() == [519, 517, 246]
    assert table["shape"].map(lambda s: int(s.split("x")[0])).max() <= 64


def test_solubility_first_molecule_is_n_pentane(table):
    row = table.set_index("sample_id").loc["solubility-train-1"]  # n-pentane, "(A) low"
    chain = encode_graph([C] * 5, [(0, 1, 1), (1, 2, 1), (2, 3, 1), (3, 4, 1)])
    np.testing.assert_array_equal(decode_payload(row), chain)
    assert row["solubility"] == 0


def test_solubility_val_is_deterministic_for_a_seed(table):
    again = load_source(SPEC, SPEC.source, seed=0)
    other = load_source(SPEC, SPEC.source, seed=1)
    assert table["split"].tolist() == again["split"].tolist()
    assert table["split"].tolist() != other["split"].tolist()
    assert (table["split"] == "test").tolist() == (other["split"] == "test").tolist()  # official test fixed


# ----- SDF files -----------------------------------------------------------------------------------
def molblock(name: str, atoms: list[str], bonds: list[tuple[int, int, int]], props: dict[str, str]) -> str:
    lines = [name, "  fixture", "", f"{len(atoms):3d}{len(bonds):3d}  0  0  0  0  0  0  0  0999 V2000"]
    lines += [f"{i:10.4f}{0.0:10.4f}{0.0:10.4f} {a:<3} 0  0  0  0  0  0  0  0  0  0  0  0" for i, a in enumerate(atoms)]
    lines += [f"{a:3d}{b:3d}{t:3d}  0" for a, b, t in bonds]
    lines.append("M  END")
    for key, value in props.items():
        lines += [f">  <{key}>", value, ""]
    return "\n".join(lines + ["$$$$"]) + "\n"


ETHANOL = molblock("ethanol", ["C", "C", "O"], [(1, 2, 1), (2, 3, 1)], {"ID": "e1", "class": "soluble"})
ACETONITRILE = molblock("", ["C", "C", "N"], [(1, 2, 1), (2, 3, 3)], {"ID": "a1", "class": "insoluble"})


def test_parse_sdf_reads_atoms_bonds_coordinates_and_properties():
    first, second = parse_sdf(ETHANOL + ACETONITRILE, "fixture.sdf")
    assert first.name == "ethanol" and first.elements == ["C", "C", "O"] and second.name == ""
    np.testing.assert_array_equal(first.coords[:, 0], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(second.bonds, [[1, 2, 1], [2, 3, 3]])
    assert first.properties == {"ID": "e1", "class": "soluble"} and second.line == 18


def test_sdf_source_train_and_test_files(tmp_path):
    (tmp_path / "train.sdf").write_text((ETHANOL + ACETONITRILE) * 5)
    (tmp_path / "test.sdf").write_text(ACETONITRILE + ETHANOL)
    source = {"kind": "sdf", "train_path": str(tmp_path / "train.sdf"), "test_path": str(tmp_path / "test.sdf"),
              "label_property": "class", "classes": ["insoluble", "soluble"], "val_fraction": 0.2}
    table = load_source(SPEC, source, seed=0)
    assert table["split"].value_counts().to_dict() == {"train": 8, "val": 2, "test": 2}
    row = table.set_index("sample_id").loc["graph-test-00000"]
    np.testing.assert_array_equal(decode_payload(row), encode_graph([C, C, N], [(0, 1, 1), (1, 2, 3)]))
    assert row["solubility"] == 0


def test_sdf_source_single_file_with_id_property(tmp_path):
    molecules = [molblock(f"m{i}", ["C", "O"], [(1, 2, 1)], {"ID": f"m{i}", "class": ["a", "b"][i % 2]}) for i in range(20)]
    (tmp_path / "all.sdf").write_text("".join(molecules))
    source = {"kind": "sdf", "path": str(tmp_path / "all.sdf"), "label_property": "class", "id_property": "ID"}
    table = load_source(SPEC, source, seed=0)
    assert table["sample_id"].tolist() == [f"graph-m{i}" for i in range(20)]
    assert table["solubility"].tolist() == [0, 1] * 10  # classes default to the sorted labels
    assert table["split"].value_counts().to_dict() == {"train": 14, "test": 4, "val": 2}


@pytest.mark.parametrize(
    "text, expected",
    [
        (ETHANOL.split("M  END")[0], r"fixture\.sdf, line 10: file ends inside a record"),
        (ETHANOL.replace("  3  2  0", "  x  2  0"), r"fixture\.sdf, line 4: expected a counts line"),
        (ETHANOL.replace("  2  3  1  0", "  2  9  1  0"), r"fixture\.sdf, line 9: bond between atoms 2 and 9"),
        (ETHANOL.replace("  2  3  1  0", "  2  3  7  0"), r"fixture\.sdf, line 9: bond type 7"),
        (ETHANOL.replace("    1.0000    0.0000", "    1.0000    zero  "), r"fixture\.sdf, line 6: expected an atom line"),
        (ETHANOL.replace(" O  ", " Xx "), r"fixture\.sdf, molecule at line 1: element\(s\) \['Xx'\]"),
        (ETHANOL.replace("<class>", "<klass>"), r"fixture\.sdf, molecule at line 1 has no property 'class'"),
        ("", r"fixture\.sdf: no molecules"),
    ],
    ids=["truncated", "garbled counts", "bond endpoint", "bond type", "garbled atom", "unknown element",
         "missing label", "empty"],
)
def test_bad_sdf_names_modality_file_and_line(tmp_path, text, expected):
    path = tmp_path / "fixture.sdf"
    path.write_text(text)
    with pytest.raises(SourceError, match=r"dataset 'graph': .*" + expected):
        load_source(SPEC, {"kind": "sdf", "path": str(path), "label_property": "class"}, seed=0)


def test_undecodable_sdf_is_a_source_error(tmp_path):
    path = tmp_path / "binary.sdf"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SourceError, match=r"dataset 'graph': .*binary\.sdf.* not UTF-8"):
        load_source(SPEC, {"kind": "sdf", "path": str(path), "label_property": "class"}, seed=0)


# ----- SDF V3000 -----------------------------------------------------------------------------------
def molblock_v3000(name: str, atoms: list[str], bonds: list[tuple[int, int, int]], props: dict[str, str]) -> str:
    """A V3000 record; atom indices are written from 11 (they need not be 1..n), the first atom line is
    continued with a trailing '-'."""
    lines = [name, "  fixture", "", "  0  0  0     0  0            999 V3000", "M  V30 BEGIN CTAB",
             f"M  V30 COUNTS {len(atoms)} {len(bonds)} 0 0 0", "M  V30 BEGIN ATOM"]
    lines += [f"M  V30 {10 + i} {a} {i:.4f} 0.0 0.0 0" for i, a in enumerate(atoms, start=1)]
    lines[7:8] = [lines[7][:12] + " -", "M  V30 " + lines[7][12:]]
    lines += ["M  V30 END ATOM", "M  V30 BEGIN BOND"]
    lines += [f"M  V30 {i} {t} {10 + a} {10 + b}" for i, (a, b, t) in enumerate(bonds, start=1)]
    lines += ["M  V30 END BOND", "M  V30 BEGIN COLLECTION", "M  V30 MDLV30/STEABS ATOMS=(1 11)",
              "M  V30 END COLLECTION", "M  V30 END CTAB", "M  END"]
    for key, value in props.items():
        lines += [f">  <{key}>", value, ""]
    return "\n".join(lines + ["$$$$"]) + "\n"


ETHANOL_V3000 = molblock_v3000("ethanol", ["C", "C", "O"], [(1, 2, 1), (2, 3, 1)], {"ID": "e1", "class": "soluble"})
ACETONITRILE_V3000 = molblock_v3000("acn", ["C", "C", "N"], [(1, 2, 1), (2, 3, 3)], {"ID": "a1", "class": "insoluble"})


def small_molecules(path) -> object:
    """A graph dataset of small molecules (at most 8 atoms, 16 tokens, 2 eigenvectors) read from `path`."""
    return resolve_dataset("small_molecules", {
        "modality": "graph", "shape": {"max_nodes": 8, "max_tokens": 16, "eigenvectors": 2},
        "source": {"kind": "sdf", "path": str(path), "label_property": "class", "id_property": "ID"},
        "tasks": {"solubility": {"classes": ["insoluble", "soluble"]}}})


def test_v3000_records_read_like_their_v2000_twins(tmp_path):
    v3000 = parse_sdf(ETHANOL_V3000 + ACETONITRILE_V3000, "v3000.sdf")
    v2000 = parse_sdf(ETHANOL + ACETONITRILE, "v2000.sdf")
    for new, old in zip(v3000, v2000):
        assert new.elements == old.elements and new.properties == old.properties
        np.testing.assert_array_equal(new.bonds, old.bonds)
        np.testing.assert_array_equal(new.payload("v3000.sdf"), old.payload("v2000.sdf"))
    np.testing.assert_array_equal(v3000[0].coords[:, 0], [1.0, 2.0, 3.0])

    molecules = [molblock_v3000(f"m{i}", ["C", "O"], [(1, 2, 1)], {"ID": f"m{i}", "class": ["insoluble", "soluble"][i % 2]})
                 for i in range(20)]
    (tmp_path / "mixed.sdf").write_text("".join(molecules[:10]) + ETHANOL + "".join(molecules[10:]))
    spec = small_molecules(tmp_path / "mixed.sdf")
    table = load_source(spec, spec.source, seed=0)
    assert len(table) == 21 and validate_sample_table(table, spec).report["success"]
    manifest = build_token_cache(table, spec, tmp_path / "tokens")
    assert manifest["token_shape"][0] == 16


@pytest.mark.parametrize(
    "text, expected",
    [
        (ETHANOL_V3000.replace("M  V30 BEGIN CTAB", "M  V30 BEGIN TABLE"), r"line 5: expected 'M  V30 BEGIN CTAB'"),
        (ETHANOL_V3000.replace("COUNTS 3 2", "COUNTS 4 2"), r"line 6: COUNTS declares 4 atoms and 2 bonds, the "
                                                             r"blocks hold 3 atoms and 2 bonds"),
        (ETHANOL_V3000.replace("M  V30 12 C 2.0000", "M  V30 12 C two"), r"line 10: expected an atom entry"),
        (ETHANOL_V3000.replace("M  V30 2 1 12 13", "M  V30 2 1 12 19"),
         r"line 15: bond between atoms 12 and 19; atom 19 is not in the ATOM block"),
        (ETHANOL_V3000.replace("M  V30 2 1 12 13", "M  V30 2 9 12 13"), r"line 15: bond type 9"),
        (ETHANOL_V3000.replace("M  V30 END BOND\n", ""), r"line 16: expected 'END BOND'"),
        (ETHANOL_V3000.replace("M  V30 END CTAB\n", ""), r"line 20: expected an 'M  V30' line \('END CTAB'\)"),
        (ETHANOL_V3000.replace("M  V30 11 C  -", "M  V30 11 C  -\nM  END"),
         r"line 9: expected an 'M  V30' continuation line"),
    ],
    ids=["no ctab", "counts", "garbled atom", "unknown atom", "bond type", "unclosed block", "unclosed ctab",
         "broken continuation"],
)
def test_malformed_v3000_record_names_the_file_and_line(tmp_path, text, expected):
    path = tmp_path / "v3000.sdf"
    path.write_text(ETHANOL + text)  # the second record: its lines are numbered from 18
    shifted = re.sub(r"line (\d+)", lambda m: f"line {int(m.group(1)) + 17}", expected)
    spec = small_molecules(path)
    with pytest.raises(SourceError, match=r"dataset 'small_molecules': .*v3000\.sdf, " + shifted):
        load_source(spec, spec.source, seed=0)


# ----- TU files ------------------------------------------------------------------------------------
def write_tu(folder, a=None, node_labels="2\n2\n4\n2\n3\n" * 5, edge_labels=None, copies=5):
    """`copies` x (graph C-C-O labelled 1, graph C-N labelled -1): nodes 5c+1..5c+5 for copy c."""
    if a is None:
        a = "".join(f"{5*c+1}, {5*c+2}\n{5*c+2}, {5*c+1}\n{5*c+2}, {5*c+3}\n{5*c+3}, {5*c+2}\n{5*c+4}, {5*c+5}\n{5*c+5}, {5*c+4}\n"
                    for c in range(copies))
    files = {"A": a, "graph_indicator": "".join(f"{2*c+1}\n{2*c+1}\n{2*c+1}\n{2*c+2}\n{2*c+2}\n" for c in range(copies)),
             "graph_labels": "1\n-1\n" * copies, "node_labels": node_labels, "edge_labels": edge_labels}
    for suffix, text in files.items():
        if text is not None:
            (folder / f"TOY_{suffix}.txt").write_text(text)
    return {"kind": "tu", "path": str(folder), "name": "TOY"}


def test_tu_source_reads_graphs_labels_and_optional_files(tmp_path):
    table = load_source(SPEC, write_tu(tmp_path, edge_labels="0\n0\n1\n1\n2\n2\n" * 5), seed=0).set_index("sample_id")
    np.testing.assert_array_equal(decode_payload(table.loc["toy-00001"]), encode_graph([C, C, O], [(0, 1, 1), (1, 2, 2)]))
    np.testing.assert_array_equal(decode_payload(table.loc["toy-00002"]), encode_graph([C, N], [(0, 1, 3)]))
    assert table["solubility"].tolist() == [1, 0] * 5  # sorted label values -1, 1
    assert len(table) == 10 and set(table["split"]) == {"train", "val", "test"}


def test_tu_source_without_node_labels_uses_category_zero(tmp_path):
    table = load_source(SPEC, write_tu(tmp_path, node_labels=None), seed=0).set_index("sample_id")
    np.testing.assert_array_equal(decode_payload(table.loc["toy-00002"]), [[1, 1], [1, 1]])


def test_bad_tu_files_are_named(tmp_path):
    with pytest.raises(SourceError, match=r"dataset 'graph': .*TOY_A\.txt, line 3: expected 2 integer"):
        load_source(SPEC, write_tu(tmp_path, a="1, 2\n2, 1\n2; x\n", copies=1), seed=0)
    with pytest.raises(SourceError, match=r"TOY_A\.txt, line 5: node id outside 1\.\.25"):
        load_source(SPEC, write_tu(tmp_path, a="1, 2\n2, 1\n2, 3\n3, 2\n4, 99\n"), seed=0)
    with pytest.raises(SourceError, match=r"TOY_node_labels\.txt: needs 25 labels in 0\.\.15"):
        load_source(SPEC, write_tu(tmp_path, node_labels="2\n2\n"), seed=0)
    (tmp_path / "TOY_graph_labels.txt").write_text("")
    with pytest.raises(SourceError, match=r"TOY_graph_labels\.txt: empty file"):
        load_source(SPEC, {"kind": "tu", "path": str(tmp_path), "name": "TOY"}, seed=0)
    with pytest.raises(SourceError, match=r"dataset 'graph': cannot read .*NOPE_A\.txt"):
        load_source(SPEC, {"kind": "tu", "path": str(tmp_path), "name": "NOPE"}, seed=0)


# ----- the tokenizer -------------------------------------------------------------------------------
def test_tokens_of_a_three_atom_path_by_hand():
    """C-C=O: eigenvalues 0, 1, 2 of the normalised Laplacian; phi_1 = (1, 0, -1)/sqrt 2, phi_2 = (1, -sqrt 2, 1)/2."""
    tokenizer = GraphTokens(max_tokens=8, eigenvectors=3)
    tokens = tokenizer.transform([encode_graph([C, C, O], [(0, 1, 1), (1, 2, 2)])], {})
    assert tokens.shape == (1, 8, 3 + 16 + 4 + 7 + 6) == (1, 8, tokenizer.token_dim) and tokens.dtype == np.float32
    r = 1 / np.sqrt(2)
    phi = np.array([[r, 0.5, 0], [0, -r, 0], [-r, 0.5, 0]])
    cat, bond, deg, lap = 3, 19, 23, 30
    node1 = tokens[0, 1]
    assert node1[:3].tolist() == [1, 0, 0] and node1[cat + C] == 1 and node1[cat:bond].sum() == 1
    assert node1[deg + 2] == 1 and node1[deg:lap].sum() == 1
    np.testing.assert_allclose(node1[lap:], np.r_[phi[1], phi[1]], atol=1e-6)
    edge12 = tokens[0, 4]  # tokens: 3 nodes, edge (0, 1), edge (1, 2), 3 padding
    assert edge12[:3].tolist() == [0, 1, 0] and edge12[cat + C] == 1 and edge12[cat + O] == 1
    assert edge12[bond:deg].tolist() == [0, 1, 0, 0] and not edge12[deg:lap].any()
    np.testing.assert_allclose(edge12[lap:], np.r_[phi[1], phi[2]], atol=1e-6)
    assert (tokens[0, 5:, 2] == 1).all() and not tokens[0, 5:, 3:].any()


def test_large_graphs_keep_their_nodes_and_first_edges():
    ring = encode_graph([C] * 6, [(i, (i + 1) % 6, 1) for i in range(6)])
    tokens = GraphTokens(max_tokens=8, eigenvectors=2).transform([ring], {})[0]
    assert tokens[:, 0].tolist() == [1] * 6 + [0, 0] and tokens[6:, 1].tolist() == [1, 1]


def test_tokens_are_deterministic_and_finite_on_the_real_molecules(table):
    samples = [decode_payload(r) for r in table.head(200).to_dict("records")]
    first, again = SPEC.tokenizer.transform(samples, {}), SPEC.tokenizer.transform(samples[::-1], {})[::-1]
    assert first.shape == (200, 64, 46) and np.isfinite(first).all()
    np.testing.assert_array_equal(first, again)  # batch composition does not change a graph's tokens


def test_payload_problem_is_the_strict_structural_check():
    good = encode_graph([C, O], [(0, 1, 2)])
    assert payload_problem(good) is None
    assert "not symmetric" in payload_problem(np.array([[3, 1], [0, 5]], np.float32))
    assert "not square" in payload_problem(np.ones((2, 3), np.float32))
    assert "whole numbers" in payload_problem(good + 0.5)
    assert "outside 1..16" in payload_problem(np.array([[0, 1], [1, 3]], np.float32))
    assert "outside 0..4" in payload_problem(np.array([[3, 7], [7, 3]], np.float32))
    with pytest.raises(ValueError, match="not a square"):
        SPEC.tokenizer.transform([np.ones((2, 3), np.float32)], {})


def test_graph_embedding_has_no_position_table_so_node_order_only_permutes_tokens():
    config = modality_config_from_spec(SPEC, 64, 46)
    embedding = GraphTokenEmbedding(config, 32)
    tokens = torch.from_numpy(GraphTokens().transform([encode_graph([C, C, O], [(0, 1, 1), (1, 2, 2)])], {}))
    order = torch.tensor([2, 0, 1, *range(3, 64)])
    torch.testing.assert_close(embedding(tokens[:, order]), embedding(tokens)[:, order])
    node, edge, pad = embedding(tokens)[0, [0, 3, 10]]
    assert not torch.allclose(node, edge) and not torch.allclose(edge, pad)


def test_clean_table_caches_and_validation_reports_class_balance(table, tmp_path):
    report = validate_sample_table(table, SPEC).report
    assert report["class_balance"]["test"]["solubility"] == {"0": 102, "1": 115, "2": 40}
    manifest = build_token_cache(table, SPEC, tmp_path)
    assert manifest["token_shape"] == [64, 46] and manifest["splits"]["test"]["rows"] == 257
