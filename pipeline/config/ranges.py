"""The range of every number in the config, in one table, checked when params.yaml is read.

The schema's types say a key is an int or a float; this says which ones a stage can use.
A value outside would surface far from its key (a negative layer width as a PyTorch
shape error, a billion-pixel frame as an out-of-memory kill), so it is refused before
any work, in one sentence that names the key and its range. The bounds are what the code
handles, not what is sensible for quality: the lower edge of every range runs through
the whole smoke pipeline in tests/test_config_ranges.py. Relations between keys
(crop_size <= frame_size, an odd smoothing window) stay in the stages' own checks.
Keys are dotted paths; ``*`` stands for any list index.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, ListConfig

from pipeline.config.rules import Rule
from pipeline.provenance.marks import FACE_STRENGTH, STRENGTH


@dataclass(frozen=True)
class Range:
    lo: float
    hi: float
    lo_open: bool = False  # True: lo itself is refused
    hi_open: bool = False
    what: str = ""  # what the key is, for the message
    odd: bool = False  # only odd integers

    def holds(self, v: float) -> bool:
        above = v > self.lo if self.lo_open else v >= self.lo
        below = v < self.hi if self.hi_open else v <= self.hi
        return above and below and (not self.odd or v % 2 == 1)

    def text(self) -> str:
        lo, hi = (f"{b:g}" if isinstance(b, float) else str(b) for b in (self.lo, self.hi))
        span = f"{'(' if self.lo_open else '['}{lo}, {hi}{')' if self.hi_open else ']'}"
        return f"an odd number in {span}" if self.odd else f"in {span}"


SEED = Range(0, 2**31 - 1, what="a random seed")
CRF = Range(0, 51, what="H.264 CRF")
SHARE = Range(0.0, 1.0, what="a share")
PROBABILITY = Range(0.0, 1.0, what="a probability")
WEIGHT = Range(0.0, 100.0, what="a loss weight")
CHANNELS = Range(1, 4096, what="a layer width")
EVERY = Range(1, 10**7, what="steps")
BATCH = Range(1, 4096, what="a batch size")
LR = Range(0.0, 1.0, lo_open=True, what="a learning rate")

RANGES: dict[str, Range] = {
    "seed": SEED,
    # data (synthetic)
    "data.frame_size": Range(64, 2048, what="pixels"),
    "data.crop_size": Range(16, 512, what="pixels"),
    "data.coverage": Range(1.2, 2.4, what="head units"),
    "data.scenes": Range(1, 64),
    "data.occlusion": Range(0.0, 1.0, what="a share of the training faces"),
    "data.fps": Range(1.0, 120.0, what="frames per second"),
    "data.video_crf": CRF,
    "data.preview_faces": Range(1, 1024, what="faces in the preview grid"),
    "data.identities.*.seed": SEED,
    "data.identities.*.frames": Range(1, 10**6, what="faces"),
    "data.identities.*.voice": SEED,
    "data.targets.*.seed": SEED,
    "data.targets.*.seconds": Range(0.0, 3600.0, lo_open=True, what="seconds"),
    "data.stills.*.seed": SEED,
    "data.stills.*.count": Range(2, 10**4, what="images"),
    # data (folder)
    "data.sample_fps": Range(0.0, 120.0, lo_open=True, what="frames per second"),
    "data.min_face": Range(16, 4096, what="pixels"),
    "data.min_sharpness": Range(0.0, 1e6, what="Laplacian variance"),
    "data.max_yaw": Range(0.0, 90.0, what="degrees"),
    "data.dedupe_bits": Range(-1, 64, what="hash bits; -1 keeps duplicates"),
    "data.match_distance": Range(0.0, 2.0, lo_open=True, what="embedding distance"),
    "data.redetect_every": Range(1, 1000, what="frames"),
    # detector
    "detector.upsample": Range(0, 3, what="doublings"),
    "detector.max_side": Range(64, 8192, what="pixels"),
    # model
    "model.input_size": Range(16, 512, what="pixels"),
    "model.encoder_dims.*": CHANNELS,
    # Odd, so a convolution keeps the centre; 3 at least: a 1-pixel kernel sees no
    # neighbours, and torch 2.13's bf16 backward of a strided 1x1 convolution in
    # channels-last memory (oneDNN brgconv) corrupts the heap at batch 1 (measured: a
    # segfault or "free(): invalid size").
    "model.kernel_size": Range(3, 9, what="pixels", odd=True),
    "model.latent_dim": CHANNELS,
    "model.inter_dims": CHANNELS,
    "model.inter_upscale_dims": CHANNELS,
    "model.decoder_dims.*": CHANNELS,
    # train
    "train.batch_size": BATCH,
    "train.max_steps": EVERY,
    "train.lr": LR,
    "train.betas.*": Range(0.0, 1.0, hi_open=True, what="an Adam beta"),
    "train.weight_decay": Range(0.0, 1.0),
    "train.warmup_steps": Range(0, 10**7, what="steps"),
    "train.polish_share": Range(0.0, 1.0, hi_open=True, what="a share of the steps"),
    "train.ema": Range(0.0, 1.0, hi_open=True, what="a decay; 0 turns the average off"),
    "train.grad_clip": Range(0.0, 1e6, what="a gradient norm; 0 turns clipping off"),
    "train.dssim_weight": WEIGHT,
    "train.mask_weight": WEIGHT,
    "train.eye_weight": WEIGHT,
    "train.mouth_weight": WEIGHT,
    "train.background_weight": WEIGHT,
    "train.gan_weight": WEIGHT,
    "train.gan_dims.*": CHANNELS,
    "train.true_face_weight": WEIGHT,
    "train.val_fraction": Range(0.0, 0.5, hi_open=True, what="a share of the faces"),
    "train.val_every": EVERY,
    "train.checkpoint_every": EVERY,
    "train.preview_every": EVERY,
    "train.preview_faces": Range(1, 64, what="faces"),
    "train.num_workers": Range(0, 256, what="processes"),
    "train.augment.warp_scale": Range(0.0, 0.2, what="a share of the crop side"),
    "train.augment.flip": PROBABILITY,
    "train.augment.rotate": Range(0.0, 180.0, what="degrees"),
    "train.augment.zoom": Range(0.0, 0.5, what="a scale change"),
    "train.augment.shift": Range(0.0, 0.5, what="a share of the crop side"),
    "train.augment.lab_l": SHARE,
    "train.augment.lab_ab": SHARE,
    # trainer
    "trainer.devices": Range(1, 1024),
    "trainer.num_nodes": Range(1, 1024),
    # generate
    "generate.batch_size": BATCH,
    "generate.jitter": Range(0.0, 0.5, what="a share of the face size"),
    "generate.jitter_seed": SEED,
    "generate.smoothing.window": Range(1, 301, what="frames", odd=True),
    "generate.smoothing.order": Range(0, 5, what="a polynomial order"),
    "generate.smoothing.min_cutoff": Range(0.0, 1000.0, lo_open=True, what="Hz"),
    "generate.smoothing.beta": Range(0.0, 1000.0),
    "generate.smoothing.d_cutoff": Range(0.0, 1000.0, lo_open=True, what="Hz"),
    "generate.crf": CRF,
    # refine
    "refine.color_smoothing": Range(0.0, 1.0, hi_open=True, what="a weight"),
    "refine.mask.erode": Range(-0.5, 0.5, True, True, what="a share of the crop side"),
    "refine.mask.blur": Range(0.0, 1.0, hi_open=True, what="a share of the crop side"),
    "refine.mask.occluder_margin": Range(0.0, 0.5, what="a share of the crop side"),
    "refine.sharpen": Range(0.0, 10.0, what="an unsharp-mask amount"),
    "refine.sharpen_sigma": Range(0.0, 20.0, lo_open=True, what="pixels"),
    "refine.crf": CRF,
    "refine.hd.crf": CRF,
    "refine.hd.min_pixels": Range(1, 2**31 - 1, what="pixels per frame"),
    "refine.side_by_side_height": Range(128, 2160, what="pixels"),
    "refine.before_after": Range(0, 64, what="frames"),
    # provenance
    "provenance.watermark_strength": Range(*STRENGTH, what="grey levels"),
    "provenance.watermark_face_strength": Range(*FACE_STRENGTH, what="grey levels"),
    # evaluate
    "evaluate.gallery_identities": Range(0, 10**4, what="people"),
    "evaluate.gallery_seed": SEED,
    "evaluate.gallery_frame_size": Range(128, 2048, what="pixels"),
    "evaluate.frames_per_identity": Range(5, 10**4, what="frames"),
    "evaluate.held_out": Range(0.0, 0.5, True, True, what="a share of the frames"),
    "evaluate.steps": EVERY,
    "evaluate.batch_size": Range(2, 4096, what="a batch size (batch norm needs 2)"),
    "evaluate.lr": LR,
    "evaluate.width": Range(4, 256, what="channels"),
    "evaluate.identity_tint": Range(0.0, 1.0, hi_open=True),
    "evaluate.identity_blur": Range(0.0, 3.0, what="pixels"),
    "evaluate.identity_noise": Range(0.0, 32.0, what="grey levels"),
    # pretrain
    "pretrain.identities": Range(2, 10**4, what="people"),
    "pretrain.seed": SEED,
    "pretrain.faces_per_identity": Range(1, 10**5, what="faces"),
    "pretrain.frame_size": Range(128, 2048, what="pixels"),
    "pretrain.steps": EVERY,
    "pretrain.batch_size": BATCH,
    "pretrain.lr": LR,
    # segment
    "segment.width": Range(2, 256, what="channels"),
    "segment.levels": Range(1, 6, what="resolutions"),
    "segment.steps": EVERY,
    "segment.batch_size": BATCH,
    "segment.lr": LR,
    "segment.occlusion": Range(0.0, 1.0),
    "segment.rotate": Range(0.0, 45.0, what="degrees"),
    "segment.zoom": Range(0.0, 0.5, what="a share of the size"),
    "segment.shift": Range(0.0, 0.5, what="a share of the crop side"),
    "segment.brightness": Range(0.0, 0.9, what="a share of the brightness"),
    "segment.checkpoint_every": EVERY,
    # voice
    "voice.sentences": Range(1, 10**4, what="sentences"),
    "voice.sentence_seed": SEED,
    "voice.context": Range(0, 64, what="frames"),
    "voice.width": Range(8, 4096, what="channels"),
    "voice.bottleneck": Range(1, 1024, what="channels"),
    "voice.warp": Range(0.0, 0.5, what="a share of the formant frequencies"),
    "voice.tilt": Range(0.0, 12.0, what="dB per octave"),
    "voice.steps": EVERY,
    "voice.batch_size": BATCH,
    "voice.lr": LR,
    "voice.checkpoint_every": EVERY,
    "voice.chunk_seconds": Range(1.0, 600.0, what="seconds"),
    "voice.gallery_speakers": Range(2, 10**4, what="speakers"),
    "voice.gallery_seed": SEED,
    "voice.gallery_sentences": Range(1, 10**4, what="sentences"),
    "voice.evaluator_steps": EVERY,
    "voice.test_sentences": Range(1, 10**4, what="sentences"),
    "voice.vad_mode": Range(0, 3, what="a WebRTC detector mode"),
    "voice.min_segment_seconds": Range(0.03, 60.0, what="seconds"),
    "voice.max_segment_seconds": Range(1.0, 600.0, what="seconds"),
    "voice.min_loudness": Range(-70.0, 0.0, what="LUFS"),
    "voice.loudness": Range(-60.0, -5.0, what="LUFS"),
    "voice.quiet_segment_db": Range(0.0, 60.0, what="dB"),
    # not under the voice model's own floor (pipeline/voice/train.py: MIN_SECONDS)
    "voice.min_speech_seconds": Range(2.0, 36000.0, what="seconds"),
}


def numbers(node: Any, path: str = "", shown: str = "") -> Iterator[tuple[str, str, Any]]:
    """(table key, key as shown, value) of every number under ``node``; bools are not."""
    items = node.items() if isinstance(node, (DictConfig, dict)) else enumerate(node)
    for k, v in items:
        if isinstance(k, int):
            key, show = f"{path}.*", f"{shown}[{k}]"
        else:
            key = f"{path}.{k}" if path else str(k)
            show = f"{shown}.{k}" if shown else str(k)
        if isinstance(v, (DictConfig, ListConfig, dict, list)):
            yield from numbers(v, key, show)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            yield key, show, v


def range_rules(cfg: Any) -> list[Rule]:
    """One rule per number in ``cfg``: it lies in its key's range. (Every numeric key of
    the schemas has one; tests/test_config_ranges.py checks that none is missing.)"""
    rules: list[Rule] = []
    for key, shown, value in numbers(cfg):
        rng = RANGES[key]
        what = f" ({rng.what})" if rng.what else ""
        rules.append((rng.holds(value), f"{shown} is {value!r}; it must be {rng.text()}{what}"))
    return rules
