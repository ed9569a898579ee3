"""Audio: mono waveforms at `sample_rate` cropped or padded to `seconds`, log-mel patches (AST-style).

Tokens: a `mel_bins`-band log-mel spectrogram (25 ms windows every 10 ms), standardised with the
train split's statistics, cut into `patch_mels` x `patch_frames` patches; MAE masking 0.8.
"""

from omnivec2.modalities.spec import MaskSpec, Modality, ModalityParts, PayloadSpec
from omnivec2.tokens.spectrogram import LogMelPatches


def build(s: dict) -> ModalityParts:
    rate, seconds = int(s["sample_rate"]), float(s["seconds"])
    length = int(round(rate * seconds))
    hop = rate // 100  # 10 ms
    frames = max(1, (length - int(rate * 0.025)) // hop + 1)
    frames -= frames % int(s["patch_frames"])
    tokenizer = LogMelPatches(sample_rate=rate, n_fft=int(rate * 0.025), hop=hop, n_mels=int(s["mel_bins"]),
                              f_max=min(8000.0, rate / 2), frames=frames, patch_mels=int(s["patch_mels"]),
                              patch_frames=int(s["patch_frames"]))
    if tokenizer.n_mels % tokenizer.patch_mels or frames <= 0:
        raise ValueError(f"{s['mel_bins']} mel bins x {frames} frames are not divisible into "
                         f"{s['patch_mels']}x{s['patch_frames']} patches")
    return ModalityParts(
        payload=PayloadSpec(shape=(length,), dtype="float32", value_range=(-1.0, 1.0), max_bytes=length * 4),
        tokenizer=tokenizer,
        embedding="patch_linear",
        mask=MaskSpec(ratio=0.8, strategy="random"),
        norm_targets=True,
    )


AUDIO = Modality(
    name="audio",
    settings={"sample_rate": 16000, "seconds": 1.0, "mel_bins": 64, "patch_mels": 16, "patch_frames": 8},
    help={"sample_rate": "Hz; sources resample to it (polyphase, scipy's resample_poly)", "seconds": "clips are cropped or padded to it",
          "mel_bins": "log-mel bands", "patch_mels": "mel bands per patch", "patch_frames": "10 ms frames per patch"},
    build=build,
    description="mono waveforms; log-mel patches",
)
