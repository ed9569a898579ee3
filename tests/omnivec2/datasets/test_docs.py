"""The README's tables of modalities and source kinds are generated from the registries."""

from pathlib import Path

from omnivec2.data.sources import SOURCES
from omnivec2.datasets.docs import BEGIN, END, generated_section
from omnivec2.modalities import MODALITIES

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_lists_every_modality_and_source_kind_as_the_registries_have_them():
    text = README.read_text()
    section = BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END
    assert section == generated_section(), "stale: run `python -m omnivec2.datasets.docs README.md`"
    for kind, entry in SOURCES.items():
        assert f"| `{kind}`" in section and all(f"`{option}`" in section for option in entry.options)
    for name, modality in MODALITIES.items():
        assert f"| `{name}` |" in section and all(f"`{setting}`" in section for setting in modality.settings)
