"""`paired_with`: a dataset whose rows align with another's by sample id, and the cross-modal retrieval
evaluation that follows from it by default.

The entry is the partner's name, or a mapping:

    paired_with:
      dataset: infrared        # the partner (the retrieval gallery; this dataset holds the queries)
      query_marker: "-rgb"     # sample ids are equal once these markers are swapped (default: "", equal ids)
      gallery_marker: "-ir"
      match: object            # the task whose equal labels make a gallery item relevant (default: the
                               # first classification task of this dataset that the partner has too;
                               # with none, a query's relevant item is its own paired row)
      components: 16           # CCA components of the protocol
      retrieval: true          # false: paired, but no retrieval evaluation

Each dataset paired with another gets the retrieval task `<dataset>/to_<partner>` in evaluation
(`omnivec2.evaluation.evaluate`), with the protocol `retrieval_protocols` derives here.
"""

from __future__ import annotations

from omnivec2.config_checks import check_keys

PAIRING_KEYS = ("dataset", "query_marker", "gallery_marker", "match", "components", "retrieval")
DEFAULT_COMPONENTS = 16


def read_pairing(where: str, entry) -> tuple[str | None, dict]:
    """A `paired_with` entry (None, a name or a mapping) -> (partner name, its options); ValueError
    naming the dataset, the key and the value."""
    if entry is None:
        return None, {}
    if isinstance(entry, str):
        return entry, {}
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: paired_with must be a dataset name or a mapping, got {entry!r}")
    check_keys(f"{where}, paired_with", entry, PAIRING_KEYS)
    if not isinstance(entry.get("dataset"), str):
        raise ValueError(f"{where}: paired_with needs 'dataset' (the partner's name), got {entry.get('dataset')!r}")
    for key in ("query_marker", "gallery_marker", "match"):
        if key in entry and not isinstance(entry[key], str):
            raise ValueError(f"{where}: paired_with.{key} must be a string, got {entry[key]!r}")
    components = entry.get("components", DEFAULT_COMPONENTS)
    if not isinstance(components, int) or isinstance(components, bool) or components < 1:
        raise ValueError(f"{where}: paired_with.components must be a positive integer, got {components!r}")
    if not isinstance(entry.get("retrieval", True), bool):
        raise ValueError(f"{where}: paired_with.retrieval must be true or false, got {entry['retrieval']!r}")
    return entry["dataset"], {k: v for k, v in entry.items() if k != "dataset"}


def match_task(spec, partner) -> str | None:
    """The task whose equal labels make a gallery item relevant: `paired_with.match`, else the first
    classification task of `spec` that `partner` has too, else None (instance retrieval: a query's
    relevant item is its own paired row); ValueError for a `match` that is not a task of both."""
    shared = [t.name for t in spec.tasks if t.kind == "classification"
              and any(p.name == t.name and p.kind == "classification" for p in partner.tasks)]
    match = spec.pairing.get("match")
    if match is None:
        return shared[0] if shared else None
    if match not in shared:
        raise ValueError(f"dataset {spec.name!r}: paired_with {partner.name!r}: match {match!r} is not a classification "
                         f"task of both datasets (shared: {shared}); name one of them in paired_with.match, or leave "
                         "it out to count only a query's own paired row as relevant")
    return match


def retrieval_protocols(specs: dict, overrides: dict | None = None) -> dict[str, dict]:
    """{"to_<partner>": {query, gallery, match, query_marker, gallery_marker, components}} for each
    dataset of `specs` (name -> DatasetSpec) paired with another, unless its retrieval is off; then
    `overrides` (the evaluation parameters' `retrieval`: name -> a protocol written by hand, added or
    replacing the derived one of that name, or null to drop it)."""
    protocols = {}
    for spec in specs.values():
        if spec.paired_with is None or not spec.pairing.get("retrieval", True):
            continue
        name = f"to_{spec.paired_with}"
        if name in protocols:  # two query datasets against one gallery: name both by their query
            name = f"{spec.name}_to_{spec.paired_with}"
        protocols[name] = {"query": spec.name, "gallery": spec.paired_with, "match": match_task(spec, specs[spec.paired_with]),
                           "query_marker": spec.pairing.get("query_marker", ""),
                           "gallery_marker": spec.pairing.get("gallery_marker", ""),
                           "components": spec.pairing.get("components", DEFAULT_COMPONENTS)}
    for name, protocol in (overrides or {}).items():
        if protocol is None:
            protocols.pop(name, None)
        else:
            protocols[name] = dict(protocol)
    return protocols


def dataset_pairs(specs: dict) -> list[dict]:
    """The paired datasets, in `training.contrastive_pairs`' form (stage 3's contrastive term aligns them;
    evaluation predicts them two-stream, see `omnivec2.evaluation.two_stream`): one
    {a, b, marker_a, marker_b} per dataset of `specs` paired with another."""
    return [{"a": spec.name, "b": spec.paired_with, "marker_a": spec.pairing.get("query_marker", ""),
             "marker_b": spec.pairing.get("gallery_marker", "")}
            for spec in specs.values() if spec.paired_with is not None]


def with_contrastive_pairs(training: dict, specs: dict) -> dict:
    """Stage 3's training settings with `contrastive_pairs` filled in from the datasets' `paired_with`
    entries (`dataset_pairs`) when the contrastive term is on and none are written; `training` itself
    otherwise. The pipeline's stage-3 node and a screen's plan read the pairs alike. ValueError when the
    term is on and no dataset of `specs` is paired: the stage would have nothing to align."""
    if not training.get("contrastive_weight") or training.get("contrastive_pairs"):
        return training
    pairs = dataset_pairs(specs)
    if not pairs:
        raise ValueError(f"train_multitask: training.contrastive_weight is {training['contrastive_weight']}, but no "
                         f"dataset is paired with another (datasets: {sorted(specs)}): give one a `paired_with` "
                         "entry, write training.contrastive_pairs, or set the weight to 0")
    return {**training, "contrastive_pairs": pairs}
