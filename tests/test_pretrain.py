"""The pretrain stage: weights made once on a pool of synthetic people, that training starts
from; the committed weights fit the default model; `make pretrain` re-makes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from safetensors.torch import load_file

from pipeline.config.compose import compose_conf
from pipeline.config.load import validate
from pipeline.errors import UserError
from pipeline.pretrain.stage import pool_seeds, pretrain
from pipeline.train.export import SCALE, export_model, load_initial_weights
from pipeline.train.models.swap import build_model
from tests.helpers import ROOT, commit_params, run, smoke_cfg


def test_training_starts_from_the_pretrained_weights(tmp_path):
    cfg = smoke_cfg()
    result = pretrain(cfg, None, tmp_path / "checkpoints")
    assert result["report"]["steps"] == cfg.pretrain.steps
    meta = {"model": OmegaConf.to_container(cfg.model), "coverage": cfg.data.coverage}
    trained = result["module"].inference_model.state_dict()
    export_model(result["module"].inference_model, tmp_path / "pretrained", meta, torch.int8)
    state = load_file(str(tmp_path / "pretrained/model.safetensors"))
    # int8 weights with float32 per-channel scales; vectors (biases, norms) in float16.
    assert {v.dtype for v in state.values()} == {torch.int8, torch.float32, torch.float16}

    model = build_model(cfg.model)
    load_initial_weights(model, tmp_path / "pretrained", cfg.model, cfg.data.coverage)
    for k, v in model.state_dict().items():
        want = trained[k].float()
        if want.ndim >= 2:  # within half a quantization step of every channel
            step = state[k + SCALE].view((-1,) + (1,) * (want.ndim - 1))
            assert ((v - want).abs() <= step / 2 + 1e-6).all(), k
        else:
            assert torch.equal(v, want.half().float()), k

    wider = smoke_cfg("model.latent_dim=48")
    with pytest.raises(UserError, match="make pretrain"):
        load_initial_weights(
            build_model(wider.model), tmp_path / "pretrained", wider.model, cfg.data.coverage
        )
    with pytest.raises(UserError, match="train.init=''"):
        load_initial_weights(model, tmp_path / "elsewhere", cfg.model, cfg.data.coverage)


def test_the_committed_weights_fit_the_default_model():
    cfg = validate(compose_conf([], ROOT / "conf"))
    assert cfg.train.init == "pretrained"
    folder = ROOT / cfg.train.init
    load_initial_weights(build_model(cfg.model), folder, cfg.model, cfg.data.coverage)
    meta = json.loads((folder / "model.json").read_text())
    # The pool never holds the swap pair nor the evaluators' gallery.
    gallery = range(cfg.evaluate.gallery_seed, cfg.evaluate.gallery_seed + 1000)
    seeds = set(meta["pool_seeds"])
    assert seeds == set(pool_seeds(cfg.pretrain))
    assert not seeds & {i.seed for i in cfg.data.identities}
    assert not seeds & set(gallery)
    # Small enough for git: the project keeps committed files under 5 MB.
    assert (folder / "model.safetensors").stat().st_size < 5 * 10**6


@pytest.mark.slow
def test_make_pretrain_remakes_the_frozen_stage(scratch_repo: Path):
    repo = scratch_repo
    commit_params(repo, "experiment=smoke", "train.init=pretrained")
    before = (repo / "pretrained/model.safetensors").read_bytes()
    # `dvc repro` never re-runs the frozen stage, even when its parameters changed.
    status = run(["dvc", "status", "pretrain"], repo)
    assert "frozen" in status.stdout + status.stderr
    made = run(["make", "-o", ".make/installed", "PY=python", "pretrain"], repo)
    assert "pretrain: 4 steps on 3 people" in made.stdout
    assert (repo / "pretrained/model.safetensors").read_bytes() != before
    meta = json.loads((repo / "pretrained/model.json").read_text())
    assert meta["steps"] == 4 and meta["model"]["latent_dim"] == 32
    # Training starts from the new weights; the frozen stage is not run.
    trained = run(["dvc", "repro", "train"], repo)
    assert "Running stage 'pretrain'" not in trained.stdout
    assert json.loads((repo / "reports/train.json").read_text())["steps"] == 6


def test_only_the_named_parts_start_from_the_pretrained_weights(tmp_path):
    cfg = smoke_cfg()
    torch.manual_seed(1)
    export_model(
        build_model(cfg.model),
        tmp_path,
        {"model": OmegaConf.to_container(cfg.model), "coverage": cfg.data.coverage},
    )
    saved = load_file(str(tmp_path / "model.safetensors"))
    torch.manual_seed(2)
    model = build_model(cfg.model)
    fresh = {k: v.clone() for k, v in model.state_dict().items()}
    load_initial_weights(model, tmp_path, cfg.model, cfg.data.coverage, ["encoder", "inter"])
    for k, v in model.state_dict().items():
        want = saved[k] if k.split(".")[0] in ("encoder", "inter") else fresh[k]
        assert torch.equal(v, want), k


def test_unknown_parts_are_refused_by_key(tmp_path):
    from pipeline.train.stage import check_config

    cfg = smoke_cfg("train.freeze=[encoder, nose]")
    with pytest.raises(
        UserError,
        match=r"train.freeze entry is 'nose', expected one of: "
        r"encoder, inter, decoders",
    ):
        check_config(cfg, ["a", "b"])
