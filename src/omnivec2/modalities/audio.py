"""Audio: spoken digits 0-9 synthesised offline by espeak-ng, 12 voices, split by voice.

Data card
---------
* Provenance: generated on the fly by espeak-ng 1.51 (Debian package `espeak-ng`, GPL-3+), a
  formant synthesiser; the audio is synthetic speech, no recordings of people.
* Generator (`espeak_digits`, see `omnivec2.data.sources.espeak_digits`): the ten English digit
  words x 12 voices (accent voice + variant) x 3 speeds (130/160/190 wpm) x 2 pitches (35/65),
  each clip's speed jittered by +-8 wpm and pitch by +-6 from the seed: 720 clips, 72 per digit.
  Silence trimmed, 22.05 -> 16 kHz (linear interpolation), cropped/zero-padded to 1.0 s.
* Splits by voice: train 7 voices (420 clips), val 2 voices (120), test 3 voices never heard in
  training (180): en-us-nyc+f4, en-029+m4, en-gb-x-gbcwmd+Alicia.
* Users' data: an ESC-50 layout (`{kind: esc50, path: <root or s3://...>}`), see `esc50.py`.
* Tokens: 64-bin log-mel (25 ms / 10 ms, 20 Hz-8 kHz) over 96 frames, standardised with train
  statistics, patches of 16 mel bins x 8 frames -> 48 tokens of 128. 8 frames (80 ms, about one
  phone) keeps the time resolution digit words need; 48 tokens keep attention cheap on CPU.
"""

from omnivec2.data.sources import register_source
from omnivec2.data.sources.esc50 import load_esc50_source
from omnivec2.data.sources.espeak_digits import load_espeak_digits_source
from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec
from omnivec2.tokens.spectrogram import LogMelPatches

register_source("espeak_digits", load_espeak_digits_source)
register_source("esc50", load_esc50_source)

AUDIO = ModalitySpec(
    name="audio",
    payload=PayloadSpec(shape=(16000,), dtype="float32", value_range=(-1.0, 1.0), max_bytes=16000 * 4),
    tokenizer=LogMelPatches(),
    embedding="patch_linear",
    mask=MaskSpec(ratio=0.8, strategy="random"),
    tasks=(TaskSpec("digit", "classification", num_classes=10),),
    norm_targets=True,
    default_source={"kind": "espeak_digits"},
    description=(
        "Spoken digits 0-9 synthesised by espeak-ng (GPL-3+): 12 voices x 3 speeds x 2 pitches, jittered by the seed, "
        "720 clips of 1.0 s at 16 kHz; split by voice (train 7 / val 2 / test 3 unseen voices). "
        "64-bin log-mel, 96 frames, 16x8 patches -> 48 tokens of 128. Users' data: ESC-50 layout (kind esc50)."
    ),
)
