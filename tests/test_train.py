"""The train stage: presets, learning, determinism, exact resume after SIGKILL, DDP on CPU."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import mlflow
import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from omegaconf import OmegaConf
from safetensors.torch import load_file

from pipeline.collect.stage import collect_synthetic
from pipeline.config.compose import compose_conf
from pipeline.config.load import validate
from pipeline.errors import UserError
from pipeline.train.data import FaceDataModule
from pipeline.train.export import export_model, load_model
from pipeline.train.models.swap import build_model
from pipeline.train.module import SwapModule
from pipeline.train.stage import LossHistory, check_devices
from tests.helpers import BIN, ROOT, commit_params, run, smoke_cfg

PRESETS = sorted(p.stem for p in (ROOT / "conf/model").glob("*.yaml"))


@pytest.fixture(scope="module")
def faces_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("collect")
    (out / "faces").mkdir()
    (out / "targets").mkdir()
    collect_synthetic(smoke_cfg().data, out / "faces", out / "targets")
    return out / "faces"


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_builds_and_keeps_the_shapes(preset):
    cfg = validate(compose_conf([f"model={preset}"], ROOT / "conf")).model
    model = build_model(cfg)
    x = torch.rand(2, 3, cfg.input_size, cfg.input_size)
    with torch.no_grad():
        for identity in (0, 1):
            rgb, mask = model(x, identity)
            assert rgb.shape == x.shape and mask.shape == (2, 1, *x.shape[2:])
            assert 0 <= rgb.min() and rgb.max() <= 1
    if preset == "original":
        convs = [m.out_channels for m in model.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
        assert convs == [128, 256, 512, 1024]
        assert model.inter.dense[1].out_features == 1024


def test_model_size_that_does_not_fit_names_the_key():
    cfg = smoke_cfg("model.input_size=60")
    with pytest.raises(UserError, match="model.input_size"):
        build_model(cfg.model)


def test_every_trainer_key_is_a_lightning_trainer_argument():
    """The trainer group is handed to pl.Trainer as it is: a key it does not take would
    fail at the start of training instead of at config validation."""
    import dataclasses
    import inspect

    from pipeline.config.schema import TrainerConf

    keys = {f.name for f in dataclasses.fields(TrainerConf)}
    assert keys <= set(inspect.signature(pl.Trainer).parameters)
    for preset in (ROOT / "conf/trainer").glob("*.yaml"):
        assert set(smoke_cfg(f"trainer={preset.stem}").trainer) == keys


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_gpu_trainer_without_a_gpu_says_so():
    cfg = smoke_cfg("trainer=gpu")
    with pytest.raises(UserError, match="trainer=cpu"):
        check_devices(cfg.trainer)


class _WeightsAt(pl.Callback):
    """The averaged weights after step ``step``."""

    def __init__(self, step: int):
        self.step, self.weights = step, None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step == self.step:
            state = pl_module.inference_model.state_dict()
            self.weights = {k: v.detach().clone() for k, v in state.items()}


def _fit(cfg, faces_dir: Path, steps: int, callbacks=()) -> list[float]:
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    names = [i.name for i in cfg.data.identities]
    dm = FaceDataModule(faces_dir, names, cfg.model.input_size, cfg.train, cfg.seed)
    module = SwapModule(build_model(cfg.model), cfg.train, names)
    history = LossHistory()
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=steps,
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        deterministic=True,
        limit_val_batches=0,
        callbacks=[history, *callbacks],
        use_distributed_sampler=False,
    )
    trainer.fit(module, dm)
    return [r["loss"] for r in history.rows]


def test_polish_schedule_passes_through_the_states_of_a_shorter_run(faces_dir):
    """Before its polish phase a run does not depend on its length: the quality bench
    scores a short budget by resuming a long run's state there."""
    common = ("train.schedule=polish", "train.ema=0.9", "train.warmup_steps=2")
    short = smoke_cfg("train.max_steps=12", "train.polish_share=0.5", *common)
    long = smoke_cfg("train.max_steps=24", "train.polish_share=0.25", *common)
    at_short, at_long = _WeightsAt(6), _WeightsAt(6)
    losses_short = _fit(short, faces_dir, 12, [at_short])
    losses_long = _fit(long, faces_dir, 24, [at_long])
    assert losses_short[:6] == losses_long[:6]
    for k, v in at_short.weights.items():
        assert torch.equal(v, at_long.weights[k]), k
    # The polish phase (no warp, decaying rate) then takes them apart.
    assert losses_short[6:12] != losses_long[6:12]


def test_a_few_steps_reduce_the_loss(faces_dir):
    cfg = smoke_cfg(
        "train.max_steps=60", "train.lr=1e-3", "train.batch_size=8", "train.augment.warp=false"
    )
    losses = _fit(cfg, faces_dir, 60)
    assert np.mean(losses[-10:]) < 0.9 * np.mean(losses[:5])


def test_same_seed_gives_the_same_losses(faces_dir):
    cfg = smoke_cfg("train.max_steps=5")
    assert _fit(cfg, faces_dir, 5) == _fit(cfg, faces_dir, 5)
    other = smoke_cfg("train.max_steps=5", "seed=1")
    assert _fit(other, faces_dir, 5) != _fit(cfg, faces_dir, 5)


def _step_of(ckpt: Path) -> int:
    try:
        return int(torch.load(ckpt, map_location="cpu", weights_only=False)["global_step"])
    except Exception:  # being replaced right now
        return -1


@pytest.mark.slow
def test_sigkill_then_dvc_repro_resumes_and_matches_an_uninterrupted_run(scratch_repo):
    repo = scratch_repo
    commit_params(
        repo,
        "experiment=smoke",
        "train.max_steps=120",
        # The polish phase and the weight average must resume exactly too.
        "train.schedule=polish",
        "train.polish_share=0.5",
        "train.ema=0.9",
        "train.checkpoint_every=10",
        "train.val_every=40",
        "train.preview_every=40",
    )
    run(["dvc", "repro", "collect"], repo)

    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.Popen(
        [str(BIN / "dvc"), "repro", "train"],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    ckpt = repo / "checkpoints/train/last.ckpt"
    deadline = time.monotonic() + 240
    while not (ckpt.is_file() and _step_of(ckpt) >= 30):
        assert proc.poll() is None, "training ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = _step_of(ckpt)
    assert 30 <= killed_at < 120
    assert not (repo / "models").exists(), "a killed run must not leave a model behind"

    resumed = run(["dvc", "repro", "train"], repo)
    assert f"resuming from step {killed_at}" in resumed.stdout
    report = json.loads((repo / "reports/train.json").read_text())
    assert report["steps"] == 120 and report["resumed_from_step"] == killed_at
    weights_resumed = load_file(str(repo / "models/model.safetensors"))

    again = run(["dvc", "repro", "train"], repo)
    assert "Running stage" not in again.stdout, "a finished run must not re-run"

    # The same run without interruption ends with the same weights.
    shutil.rmtree(repo / "checkpoints")
    fresh = run(["dvc", "repro", "-f", "train"], repo, env={"FACEPIPE_EXECUTION": "fresh"})
    assert "resuming" not in fresh.stdout
    weights_fresh = load_file(str(repo / "models/model.safetensors"))
    for k, v in weights_fresh.items():
        assert torch.allclose(v, weights_resumed[k], atol=1e-6), k

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{repo / 'mlflow.db'}")
    exp = client.get_experiment_by_name("facepipe")
    trains = [
        r
        for r in client.search_runs([exp.experiment_id])
        if r.data.tags.get("facepipe.stage") == "train"
    ]
    resumed_run = next(
        r for r in trains if r.data.metrics.get("report/resumed_from_step") == killed_at
    )
    history = client.get_metric_history(resumed_run.info.run_id, "train/loss")
    assert len(history) >= 3 and min(h.step for h in history) >= killed_at
    images = [a.path for a in client.list_artifacts(resumed_run.info.run_id, "images")]
    assert any("preview" in p for p in images), images


@pytest.mark.slow
def test_ddp_on_two_cpu_processes(scratch_repo):
    repo = scratch_repo
    commit_params(
        repo,
        "experiment=smoke",
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "trainer.precision=32-true",
        "train.max_steps=4",
    )
    run(["dvc", "repro", "collect"], repo)
    proc = run(["python", "-m", "pipeline.train"], repo, env={"DVC_ROOT": str(repo)})
    report = json.loads((repo / "reports/train.json").read_text())
    assert report["steps"] == 4
    assert (repo / "models/model.safetensors").is_file()
    assert "Traceback" not in proc.stderr
    # Started again, both ranks pick up the same checkpoint (a mismatch would hang).
    again = run(["python", "-m", "pipeline.train"], repo, env={"DVC_ROOT": str(repo)}, timeout=180)
    assert "resuming from step 4" in again.stdout


def _module_and_batch(faces_dir: Path, *overrides: str) -> tuple[SwapModule, dict]:
    """The smoke preset's training module (with ``overrides``) and its first batch."""
    cfg = smoke_cfg(*overrides, "train.max_steps=3")
    names = [i.name for i in cfg.data.identities]
    dm = FaceDataModule(faces_dir, names, cfg.model.input_size, cfg.train, cfg.seed)
    dm.setup()
    return SwapModule(build_model(cfg.model), cfg.train, names), next(iter(dm.train_dataloader()))


def _unmoved(params) -> bool:
    """True when a backward pass left every one of ``params`` without gradient."""
    return all(p.grad is None or not p.grad.any() for p in params)


def test_patch_gan_trains_both_sides(faces_dir):
    module, batch = _module_and_batch(faces_dir, "train.gan_weight=0.1")
    losses = module.losses(batch)
    assert {"synth_a/gan", "synth_a/discriminator"} <= set(losses)
    losses["loss"].backward()
    assert all(p.grad is not None for p in module.discriminator.parameters())
    assert all(p.grad is not None for p in module.model.parameters())
    # The discriminator's own term alone must not move the generator.
    module.zero_grad()
    losses = module.losses(batch)
    losses["synth_a/discriminator"].backward()
    assert _unmoved(module.model.parameters())


@pytest.mark.parametrize("arch", ["df", "liae"])
def test_the_parts_table_names_each_architectures_modules(arch):
    from pipeline.train.models.swap import PARTS

    model = build_model(smoke_cfg(f"model.arch={arch}").model)
    assert tuple(name for name, _ in model.named_children()) == PARTS[arch]


def test_true_face_terms_each_move_only_their_own_side(faces_dir):
    module, batch = _module_and_batch(faces_dir, "train.true_face_weight=0.1")
    losses = module.losses(batch)
    assert {"true_face", "code_discriminator"} <= set(losses)
    losses["loss"].backward()
    assert all(p.grad is not None for p in module.code_discriminator.parameters())
    assert module.model.encoder[0][0].weight.grad.any()
    # The encoder's term moves the encoder and inter, never the discriminator or a decoder.
    module.zero_grad()
    module.losses(batch)["true_face"].backward()
    assert _unmoved(module.code_discriminator.parameters())
    assert _unmoved(module.model.decoders.parameters())
    assert module.model.encoder[0][0].weight.grad.any()
    # The discriminator's term moves only the discriminator.
    module.zero_grad()
    module.losses(batch)["code_discriminator"].backward()
    assert _unmoved(module.model.parameters())


def test_a_discriminator_that_cannot_tell_costs_the_encoder_least():
    from pipeline.train.losses import code_losses

    codes = [torch.randn(4, 8, 4, 4) for _ in range(2)]
    blind = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(128, 2))
    torch.nn.init.zeros_(blind[1].weight)
    torch.nn.init.zeros_(blind[1].bias)
    g, d = code_losses(blind, codes)
    assert g.item() == pytest.approx(math.log(2))
    assert d.item() == pytest.approx(math.log(2))
    sure = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(128, 2))
    with torch.no_grad():
        sure[1].weight.zero_()
        sure[1].bias.copy_(torch.tensor([5.0, -5.0]))
    assert code_losses(sure, codes)[0].item() > g.item()


def test_exported_model_loads_into_the_same_network(tmp_path):
    cfg = smoke_cfg()
    model = build_model(cfg.model).eval()
    export_model(
        model,
        tmp_path,
        {"model": OmegaConf.to_container(cfg.model), "identities": ["synth_a", "synth_b"]},
    )
    loaded, meta = load_model(tmp_path)
    x = torch.rand(2, 3, cfg.model.input_size, cfg.model.input_size)
    with torch.no_grad():
        for k in (0, 1):
            assert torch.equal(model(x, k)[0], loaded(x, k)[0])
    assert meta["identities"] == ["synth_a", "synth_b"]
    with pytest.raises(UserError, match="run the train stage"):
        load_model(tmp_path / "missing")


class _Payload:
    """A pickle that runs code when loaded the unsafe way."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "code ran"))


def test_a_checkpoint_that_carries_code_is_refused_without_running_it(tmp_path):
    from pipeline.train.resume import checkpoint_to_resume

    folder, marker = tmp_path / "checkpoints", tmp_path / "pwned.txt"
    folder.mkdir()
    torch.save({"global_step": 5, "evil": _Payload(marker)}, folder / "last.ckpt")
    (folder / "fingerprint.txt").write_text("abc\n")
    with pytest.raises(UserError, match=r"last.ckpt is not a checkpoint this project wrote"):
        checkpoint_to_resume(folder, "abc")
    assert not marker.exists()
    # A plain one (what Lightning writes: tensors, numbers, containers) loads.
    torch.save({"global_step": 7, "state_dict": {"w": torch.ones(2)}}, folder / "last.ckpt")
    assert checkpoint_to_resume(folder, "abc") == (folder / "last.ckpt", 7)
