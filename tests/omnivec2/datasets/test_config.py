"""A dataset is configuration: every entry is resolved and checked before anything reads or trains,
and a bad one is refused naming the dataset, the key and the value."""

from __future__ import annotations

import copy

import pytest

from omnivec2.datasets import resolve_dataset, resolve_datasets
from omnivec2.modalities import MODALITIES
from tests.default_suite import DATASETS

DIGITS = {"modality": "image", "shape": {"size": 8, "channels": 1, "patch": 2, "value_range": [0.0, 16.0], "scale": 16.0},
          "source": {"kind": "sklearn_digits"}, "tasks": {"digit": {"classes": [str(i) for i in range(10)]}}}
PHOTOS = {"modality": "image", "shape": {"size": 16, "channels": 1, "patch": 2},
          "source": {"kind": "png_folder", "path": "/data/photos"}, "tasks": {"species": {"num_classes": 3}}}


def with_changes(entry: dict, **changes) -> dict:
    entry = copy.deepcopy(entry)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = entry
        for key in parents:
            target = target.setdefault(key, {})
        target[leaf] = value
    return entry


def test_the_default_suite_is_fifteen_datasets_over_the_thirteen_modalities():
    assert len(DATASETS) == 15
    assert {spec.modality for spec in DATASETS.values()} == set(MODALITIES) and len(MODALITIES) == 13
    assert DATASETS["rgb"].modality == "image" and DATASETS["rgb"].paired_with == "infrared"
    assert DATASETS["tabular_regression"].modality == "tabular"


def test_shape_settings_fix_the_payload_and_the_tokenizer():
    digits, photos = resolve_dataset("digits", DIGITS), resolve_dataset("photos", PHOTOS)
    assert digits.payload.shape == (8, 8) and photos.payload.shape == (16, 16)
    assert digits.tokenizer.config() == {"kind": "image_patches", "patch": 2, "scale": 16.0}
    rgb = resolve_dataset("rgb32", with_changes(PHOTOS, shape__channels=3, shape__size=32, shape__patch=8))
    assert rgb.payload.shape == (3, 32, 32) and rgb.settings["channels"] == 3
    audio = resolve_dataset("clips", {"modality": "audio", "shape": {"sample_rate": 44100, "seconds": 5.0},
                                      "source": {"kind": "esc50", "path": "/esc"}, "tasks": {"sound": {"num_classes": 50}}})
    assert audio.payload.shape == (220500,) and audio.tokenizer.sample_rate == 44100


def test_class_names_count_the_classes():
    spec = resolve_dataset("digits", DIGITS)
    assert spec.tasks[0].num_classes == 10 and spec.tasks[0].classes[3] == "3"
    dense = resolve_dataset("seg", {"modality": "depth", "source": {"kind": "depth_folder", "path": "/d"},
                                    "tasks": {"mask": {"kind": "dense", "classes": ["floor", "object"],
                                                       "ignore_index": 255}}})
    assert dense.tasks[0].outputs_per_token == 64 and dense.tasks[0].ignore_index == 255


def test_class_names_yaml_read_as_booleans_are_refused_with_the_quoting_that_fixes_them():
    import yaml

    entry = yaml.safe_load("tasks: {word: {classes: [yes, no, up]}}\nsource: {kind: audio_folder, path: /s, "
                           "classes: [on, off]}")
    assert entry["tasks"]["word"]["classes"] == [True, False, "up"]  # what YAML 1.1 makes of them
    words = {"modality": "audio", "source": {"kind": "audio_folder", "path": "/s"}, "tasks": entry["tasks"]}
    with pytest.raises(ValueError, match=r"^dataset 'words', task 'word': classes \[True, False, 'up'\] hold 2 "
                                         r"boolean\(s\): YAML reads unquoted yes, no, .* e\.g\. classes: \['yes', 'no'\]"):
        resolve_dataset("words", words)
    words = {**words, "source": entry["source"], "tasks": {"word": {"classes": ["yes", "no"]}}}
    with pytest.raises(ValueError, match=r"^dataset 'words', source \(audio_folder\): classes \[True, False\] hold 2"):
        resolve_dataset("words", words)


def test_a_task_with_neither_names_nor_a_count_infers_its_classes_from_the_labels():
    spec = resolve_dataset("digits", with_changes(DIGITS, tasks={"digit": {"kind": "classification"}}))
    assert spec.tasks[0].infer_classes and spec.tasks[0].num_classes == 0
    assert not resolve_dataset("digits", DIGITS).tasks[0].infer_classes


BAD_ENTRIES = {
    "unknown key": (with_changes(DIGITS, modalty="image"),
                    "dataset 'bad': unknown key(s) ['modalty'] (did you mean 'modalty' -> 'modality'?)"),
    "unknown modality": (with_changes(DIGITS, modality="imaeg"),
                         "dataset 'bad': modality: unknown modality 'imaeg' (did you mean 'imaeg' -> 'image'?)"),
    "unknown source kind": (with_changes(DIGITS, source={"kind": "png_foldr", "path": "/x"}),
                            "dataset 'bad': source kind 'png_foldr' is unknown (did you mean 'png_foldr' -> 'png_folder'?)"),
    "a source kind of another modality": (with_changes(DIGITS, source={"kind": "esc50", "path": "/x"}),
                                          "dataset 'bad': source kind 'esc50' reads audio data, not image"),
    "unknown source option": (with_changes(PHOTOS, source__val_fractoin=0.2),
                              "dataset 'bad', source (png_folder): unknown key(s) ['val_fractoin'] "
                              "(did you mean 'val_fractoin' -> 'val_fraction'?)"),
    "unknown shape setting": (with_changes(DIGITS, shape__chanels=3),
                              "dataset 'bad', shape: unknown key(s) ['chanels'] (did you mean 'chanels' -> 'channels'?)"),
    "a shape setting of the wrong kind": (with_changes(DIGITS, shape__channels="three"),
                                          "dataset 'bad', shape: channels must be a positive integer, got 'three'"),
    "a negative side": (with_changes(DIGITS, shape__size=[8, -8]),
                        "dataset 'bad', shape: size must be a positive integer or a list of them, got [8, -8]"),
    "a fractional count": (with_changes(DIGITS, shape__patch=2.5),
                           "dataset 'bad', shape: patch must be a positive integer, got 2.5"),
    "a value range upside down": (with_changes(DIGITS, shape__value_range=[16, 0]),
                                  "dataset 'bad', shape: value_range must be [low, high] (numbers or null, low <= "
                                  "high), got [16, 0]"),
    "a shape the modality cannot build": (with_changes(DIGITS, shape__patch=3),
                                          "dataset 'bad', shape: size 8x8 is not divisible into patches of 3"),
    "classes and a count that disagree": (with_changes(DIGITS, tasks={"digit": {"classes": ["a", "b"], "num_classes": 3}}),
                                          "dataset 'bad', task 'digit': num_classes 3 but 2 classes are listed"),
    "a class count that is not a positive integer": (
        with_changes(DIGITS, tasks={"digit": {"kind": "classification", "num_classes": 0}}),
        "dataset 'bad', task 'digit': list its 'classes' (names in label order) or give 'num_classes' (a positive "
        "integer), got num_classes=0; or leave both out to infer the classes from the labels"),
    "an embedding task without a width": (with_changes(DIGITS, tasks={"digit": {"kind": "embedding"}}),
                                          "dataset 'bad', task 'digit': list its 'classes' (names in label order) "
                                          "or give 'num_classes' (a positive integer), got num_classes=None"),
    "a dense task on a modality without pixels": (
        {"modality": "tabular", "source": {"kind": "sklearn_wine"}, "tasks": {"seg": {"kind": "dense", "num_classes": 2}}},
        "dataset 'bad', task 'seg': this modality has no dense (per-pixel) tasks"),
    "unknown task kind": (with_changes(DIGITS, tasks={"digit": {"kind": "ranking", "num_classes": 2}}),
                          "dataset 'bad', task 'digit': kind 'ranking' is not one of"),
    "a task named like a column every sample table has": (
        with_changes(DIGITS, tasks={"shape": {}}),
        "dataset 'bad', task 'shape': 'shape' is a column every sample table or token shard has"),
    "a task name that is not an identifier": (
        with_changes(DIGITS, tasks={"digit/odd": {"num_classes": 2}}),
        "dataset 'bad', task 'digit/odd': a task name is letters, digits and '_', starting with a letter"),
    "a task named like a dense task's summary column": (
        {"modality": "depth", "source": {"kind": "inventor_depth"},
         "tasks": {"object_mask": {"kind": "dense", "num_classes": 2}, "object_mask_max": {"num_classes": 2}}},
        "dataset 'bad', task 'object_mask_max': the dense task 'object_mask' stores its label maps' summaries in "
        "the column 'object_mask_max'"),
    "unknown card key": (with_changes(DIGITS, card={"licence": "BSD", "lisence": "x"}),
                         "dataset 'bad', card: unknown key(s) ['lisence']"),
}


@pytest.mark.parametrize("case", sorted(BAD_ENTRIES))
def test_a_bad_entry_is_refused_naming_the_dataset_the_key_and_the_value(case):
    entry, message = BAD_ENTRIES[case]
    with pytest.raises(ValueError) as info:
        resolve_dataset("bad", entry)
    assert message in str(info.value)


def test_paired_with_must_name_another_configured_dataset():
    with pytest.raises(ValueError, match=r"dataset 'photos': paired_with names 'nope', which is not a configured"):
        resolve_datasets({"digits": DIGITS, "photos": with_changes(PHOTOS, paired_with="nope")})
    specs = resolve_datasets({"digits": DIGITS, "photos": with_changes(PHOTOS, paired_with="digits")})
    assert specs["photos"].paired_with == "digits"


def test_an_environment_drops_a_base_dataset_by_setting_it_to_null():
    assert list(resolve_datasets({"digits": DIGITS, "photos": None})) == ["digits"]
