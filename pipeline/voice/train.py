"""Train the voice model (``model.py``) in Lightning: random-warp batches of envelope
windows, one decoder per speaker, resumable from ``checkpoints/voice`` after a kill.

Batch ``i`` is a function of (seed, i) alone, so a resumed run draws the same batches
as an uninterrupted one and ends with the same weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf
from safetensors.torch import save_file
from torch.utils.data import Dataset

from pipeline.errors import UserError
from pipeline.io.atomic import atomic_outputs
from pipeline.train.callbacks import PreviewLogger
from pipeline.train.stepwise import fit_steps
from pipeline.voice import world
from pipeline.voice.collect import spectrogram_image
from pipeline.voice.features import SpeakerSet
from pipeline.voice.model import VoiceNet, convert, random_warp, windows

MIN_SECONDS = 2.0  # of collected speech per speaker


class WarpBatches(Dataset):
    """Item ``i``: batch ``i`` of the run, half drawn from each speaker on average."""

    def __init__(self, sets: list[SpeakerSet], voice: DictConfig, seed: int):
        self.envs = [torch.from_numpy(s.envelope.astype(np.float32)) for s in sets]
        self.windows = [windows(e, voice.context) for e in self.envs]
        self.voice, self.seed = voice, seed

    def __len__(self) -> int:
        return self.voice.steps

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + int(i))
        n = self.voice.batch_size
        speaker = torch.randint(0, len(self.envs), (n,), generator=g)
        frames = self.windows[0].shape[1]
        batch = torch.empty(n, frames, world.MEL_BINS)
        target = torch.empty(n, world.MEL_BINS)
        for k, (w, e) in enumerate(zip(self.windows, self.envs)):
            rows = (speaker == k).nonzero()[:, 0]
            pick = torch.randint(0, len(w), (len(rows),), generator=g)
            batch[rows], target[rows] = w[pick], e[pick]
        warped = random_warp(batch, self.voice.warp, self.voice.tilt, g)
        return {"input": warped, "target": target, "speaker": speaker}


class VoiceModule(pl.LightningModule):
    def __init__(self, net: VoiceNet, voice: DictConfig):
        super().__init__()
        self.net, self.voice = net, voice

    def training_step(self, batch, batch_idx):
        x = self.net.normalise(batch["input"])
        y = self.net.normalise(batch["target"])
        loss = (self.net(x, batch["speaker"]) - y).abs().mean()
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.net.parameters(), lr=self.voice.lr)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, self.voice.lr, total_steps=self.voice.steps, pct_start=0.1
        )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def build_net(voice: DictConfig, sets: list[SpeakerSet]) -> VoiceNet:
    """A fresh net with the speakers' normalisation and statistics filled in."""
    net = VoiceNet(len(sets), voice.context, voice.width, voice.bottleneck)
    env = np.concatenate([s.envelope for s in sets])
    net.env_mean.copy_(torch.from_numpy(env.mean(0)))
    net.env_std.copy_(torch.from_numpy(env.std(0) + 1e-3))
    for k, s in enumerate(sets):
        net.log_f0[k] = torch.tensor(s.log_f0_stats())
        net.aperiodicity[k] = float(s.aperiodicity[s.f0 > 0].mean())
    return net


def preview(net: VoiceNet, sets: list[SpeakerSet]) -> np.ndarray:
    """Spectrograms of each speaker's first utterance: as collected, through its own
    decoder and through the other's (rows A, A->A, A->B, B, B->B, B->A), labelled."""
    rows = []
    for k, s in enumerate(sets):
        u = s.utterance(0)
        rows.append((s.name, u.envelope))
        for d, other in enumerate(sets):
            rows.append((f"{s.name} -> {other.name}", convert(net, u, k, d).envelope))
    width = max(len(e) for _, e in rows)
    tiles = []
    for label, env in rows:
        img = spectrogram_image(env, 96)
        img = np.pad(img, ((0, 0), (0, width - img.shape[1]), (0, 0)))
        cv2.putText(img, label, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
        tiles.append(img)
    return np.concatenate(tiles)


def fingerprint(voice: DictConfig, seed: int, folder: Path, names: list[str]) -> str:
    import hashlib

    h = hashlib.sha256(json.dumps([OmegaConf.to_container(voice), seed, names]).encode())
    for n in names:
        h.update((folder / n / "features.npz").read_bytes())
    return h.hexdigest()


def train_voice(
    voice: DictConfig,
    seed: int,
    voices: Path,
    names: list[str],
    checkpoints: Path,
    logger=False,
    run_id: str | None = None,
) -> dict:
    """Train on the collected speakers ``names``; returns the module and a report."""
    from pipeline.train.resume import checkpoint_to_resume

    sets = [SpeakerSet.load(voices / n) for n in names]
    for s in sets:
        if s.seconds < MIN_SECONDS:
            raise UserError(
                f"speaker '{s.name}' has {s.seconds:.1f} s of speech in {voices / s.name}; "
                f"the voice model needs at least {MIN_SECONDS:.0f} s: raise voice.sentences "
                "(synthetic voices) or give them more recordings (real ones)."
            )
    pl.seed_everything(seed, workers=True, verbose=False)
    module = VoiceModule(build_net(voice, sets), voice)
    ckpt, step = checkpoint_to_resume(checkpoints, fingerprint(voice, seed, voices, names))
    if ckpt is not None:
        print(f"voice_train: resuming from step {step} of {voice.steps} ({ckpt})", flush=True)
    data = WarpBatches(sets, voice, seed)
    previews = PreviewLogger(
        lambda module: preview(module.net, sets), voice.checkpoint_every, run_id, "voice_preview"
    )
    trainer, seconds = fit_steps(
        module,
        data,
        voice.steps,
        step,
        ckpt,
        checkpoints,
        voice.checkpoint_every,
        [previews],
        logger,
    )
    loss = trainer.callback_metrics.get("train/loss")
    return {
        "module": module,
        # A run resumed at its last step trains none and logs no preview.
        "preview": previews.last if previews.last is not None else preview(module.net, sets),
        "report": {
            "steps": int(trainer.global_step),
            "resumed_from_step": step,
            "train_loss": round(float(loss), 6) if loss is not None else None,
            "frames_per_second": round((voice.steps - step) * voice.batch_size / seconds, 1),
            "speakers": names,
            "seconds_of_speech": {s.name: round(s.seconds, 1) for s in sets},
        },
    }


def save_net(net: VoiceNet, folder: Path, meta: dict) -> None:
    save_file(
        {k: v.contiguous() for k, v in net.state_dict().items()}, folder / "model.safetensors"
    )
    (folder / "model.json").write_text(json.dumps(meta, indent=1) + "\n")


def write_model(result: dict, voice: DictConfig, out: Path) -> None:
    net = result["module"].net
    meta = {
        "speakers": result["report"]["speakers"],
        "context": voice.context,
        "width": voice.width,
        "bottleneck": voice.bottleneck,
        "steps": result["report"]["steps"],
    }
    with atomic_outputs(out) as (tmp,):
        tmp.mkdir()
        save_net(net, tmp, meta)
        cv2.imwrite(str(tmp / "preview.png"), result["preview"])
