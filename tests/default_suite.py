"""The embedded default suite (conf/base/parameters_datasets.yml), resolved: ready DatasetSpecs for tests."""

from pipelines.datasets import dataset_specs

DATASETS = dataset_specs("base")


def default_dataset(name: str):
    return DATASETS[name]


def manifest_for(name: str, token_shape: list[int], **fields) -> dict:
    """A hand-made token-cache manifest of a default dataset (what tests of the stages need of one)."""
    from omnivec2.tokens.build import stream_description

    return {**stream_description(DATASETS[name]), "token_shape": token_shape, **fields}
