"""Every number in the config has a range (issue 14): a value past either edge is refused
in one sentence naming the key, and the smoke pipeline runs at the edges it accepts."""

from __future__ import annotations

import copy
import dataclasses
import json
import typing

import pytest

from pipeline.config.compose import compose_conf
from pipeline.config.load import validate
from pipeline.config.ranges import RANGES
from pipeline.config.schema import GROUP_SCHEMAS, Config, FolderDataConf, SyntheticDataConf
from pipeline.errors import UserError
from tests.helpers import ROOT, commit_params, make_scratch_repo, run


def _numeric_keys(schema: type, prefix: str = "") -> set[str]:
    """Dotted keys ('*' for a list index) of every int or float field under ``schema``."""
    hints = typing.get_type_hints(schema)
    keys: set[str] = set()
    for f in dataclasses.fields(schema):
        kind, key = hints[f.name], f"{prefix}{f.name}"
        if typing.get_origin(kind) is list:
            (kind,) = typing.get_args(kind)
            key += ".*"
        if dataclasses.is_dataclass(kind):
            keys |= _numeric_keys(kind, f"{key}.")
        elif kind in (int, float):
            keys.add(key)
    return keys


def _schema_keys() -> set[str]:
    keys = _numeric_keys(Config)
    for group, (_, choices) in GROUP_SCHEMAS.items():
        for schema in choices.values():
            keys |= _numeric_keys(schema, f"{group}.")
    return keys


def test_every_numeric_key_of_every_schema_has_a_range_and_no_range_is_stale():
    keys = _schema_keys()
    assert sorted(keys - RANGES.keys()) == []
    assert sorted(RANGES.keys() - keys) == []


BASES = {
    "synthetic": compose_conf([], ROOT / "conf"),
    "folder": compose_conf(["data=folder"], ROOT / "conf"),
}
FOLDER_ONLY = {
    f"data.{k}" for k in _numeric_keys(FolderDataConf) - _numeric_keys(SyntheticDataConf)
}


def _base_for(key: str) -> dict:
    return copy.deepcopy(BASES["folder" if key in FOLDER_ONLY else "synthetic"])


def _set(raw: dict, key: str, value) -> str:
    """Put ``value`` at ``key`` (the first list item for '*'); returns the key as shown."""
    *parents, leaf = key.split(".")
    node, shown = raw, ""
    for part in parents:
        if part == "*":
            node, shown = node[0], f"{shown}[0]"
        else:
            node, shown = node[part], f"{shown}.{part}" if shown else part
    if leaf == "*":
        node[0] = value
        return f"{shown}[0]"
    node[leaf] = value
    return f"{shown}.{leaf}" if shown else leaf


def _outside(key: str) -> list:
    """A value just below and just above the key's range."""
    r = RANGES[key]
    base = _base_for(key)
    probe = base
    for part in key.split("."):
        probe = probe[0] if part == "*" else probe[part]
    if isinstance(probe, int):
        below, above = int(r.lo) - (0 if r.lo_open else 1), int(r.hi) + (0 if r.hi_open else 1)
        return [below, above, int(r.lo) + 1] if r.odd else [below, above]
    step = max(abs(r.hi - r.lo), 1.0) * 1e-6
    return [r.lo if r.lo_open else r.lo - step, r.hi if r.hi_open else r.hi + step]


@pytest.mark.parametrize("key", sorted(RANGES))
def test_a_value_past_either_edge_is_refused_in_one_sentence_naming_the_key(key):
    for value in _outside(key):
        raw = _base_for(key)
        shown = _set(raw, key, value)
        with pytest.raises(UserError) as err:
            validate(raw)
        message = str(err.value)
        assert f"{shown} is {value!r}; it must be " in message, message
        assert "\n" not in message and message.endswith("."), message


# The lower edge of (nearly) every range the smoke pipeline reads, and the upper edge of
# the cheap ones: one face per identity, one frame of target, one-channel layers, one step.
EDGES = [
    "seed=0",
    "data.scenes=1",
    "data.fps=1",
    "data.video_crf=0",
    "data.preview_faces=1",
    "data.coverage=1.2",
    "data.identities=[{name:synth_a,seed:0,frames:1},{name:synth_b,seed:2147483647,frames:1}]",
    "data.targets=[{name:a_to_b,identity:synth_a,swap_to:synth_b,seconds:1.0,seed:0}]",
    "data.stills=[{name:a_stills,identity:synth_a,swap_to:synth_b,count:2,seed:0}]",
    "model.kernel_size=3",
    "model.encoder_dims=[1,1,1,1]",
    "model.latent_dim=1",
    "model.inter_dims=1",
    "model.inter_upscale_dims=1",
    "model.decoder_dims=[1,1,1]",
    "train.batch_size=1",
    "train.max_steps=1",
    "train.lr=1e-9",
    "train.betas=[0.0,0.0]",
    "train.weight_decay=1.0",
    "train.warmup_steps=0",
    "train.polish_share=0.0",
    "train.ema=0.0",
    "train.grad_clip=0.0",
    "train.dssim_weight=0.0",
    "train.mask_weight=0.0",
    "train.eye_weight=0.0",
    "train.mouth_weight=0.0",
    "train.background_weight=0.0",
    "train.gan_weight=100.0",
    "train.gan_dims=[1]",
    "train.true_face_weight=100.0",
    "train.val_fraction=0.0",
    "train.val_every=1",
    "train.checkpoint_every=1",
    "train.preview_every=1",
    "train.preview_faces=1",
    "train.augment.warp_scale=0.2",
    "train.augment.flip=1.0",
    "train.augment.rotate=180.0",
    "train.augment.zoom=0.5",
    "train.augment.shift=0.5",
    "train.augment.lab_l=1.0",
    "train.augment.lab_ab=1.0",
    "generate.batch_size=1",
    "generate.jitter=0.5",
    "generate.jitter_seed=2147483647",
    "generate.smoothing.window=1",
    "generate.smoothing.order=0",
    "generate.crf=51",
    "refine.color_smoothing=0.0",
    "refine.mask.erode=-0.49",
    "refine.mask.blur=0.0",
    "refine.mask.occluder_margin=0.0",
    "refine.sharpen=10.0",
    "refine.sharpen_sigma=0.01",
    "refine.crf=51",
    "refine.hd.min_pixels=1",  # every stream takes the HD encoding
    "refine.hd.crf=51",
    "refine.side_by_side_height=128",
    "refine.before_after=0",
    "provenance.watermark_strength=1.0",
    "evaluate.gallery_identities=0",
    "evaluate.gallery_seed=0",
    "evaluate.gallery_frame_size=128",
    "evaluate.frames_per_identity=5",
    "evaluate.held_out=0.01",
    "evaluate.steps=1",
    "evaluate.batch_size=2",
    "evaluate.lr=1.0",
    "evaluate.width=4",
    "evaluate.identity_tint=0.0",
    "evaluate.identity_blur=3.0",
    "evaluate.identity_noise=32.0",
    "voice.sentences=1",
    "voice.context=0",
    "voice.width=8",
    "voice.bottleneck=1",
    "voice.warp=0.5",
    "voice.tilt=0.0",
    "voice.steps=1",
    "voice.batch_size=1",
    "voice.checkpoint_every=1",
    "voice.chunk_seconds=1.0",
    "voice.gallery_speakers=2",
    "voice.gallery_sentences=1",
    "voice.evaluator_steps=1",
    "voice.test_sentences=1",
    "segment.width=2",
    "segment.levels=6",
    "segment.steps=1",
    "segment.batch_size=1",
    "segment.lr=1.0",
    "segment.occlusion=1.0",
    "segment.rotate=45.0",
    "segment.zoom=0.5",
    "segment.shift=0.5",
    "segment.brightness=0.9",
    "segment.checkpoint_every=1",
]


@pytest.mark.slow
def test_the_smoke_pipeline_runs_end_to_end_at_the_edges(tmp_path):
    """No accepted value crashes a stage later: the whole smoke pipeline, through DVC,
    with the edge values above, ends with its outputs and its metrics."""
    repo = make_scratch_repo(tmp_path / "repo")
    commit_params(repo, "experiment=smoke", *EDGES)
    validate(compose_conf(["experiment=smoke", *EDGES], repo / "conf"))
    run(["dvc", "repro"], repo)
    metrics = json.loads((repo / "reports" / "metrics.json").read_text())
    assert metrics["clips"]["a_to_b"]["frames"] == 1
    assert (repo / "outputs" / "final" / "a_to_b" / "a_to_b.mp4").stat().st_size > 0
