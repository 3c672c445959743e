"""Evaluators trained on synthetic renders: identity (classifier + embedding) and
performance (regressor of pose and expression).

A gallery of ``gallery_identities`` synthetic people the swap never trains on, plus the
swap identities themselves, is rendered in random performances; a held-out share of each
identity's frames measures the evaluators' own accuracy, so every metric built on them
has a known floor. Everything is deterministic from the seeds and the renderer version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import kornia
import numpy as np
import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from pipeline.evaluate.crops import CROP, identity_crop, pose_crop
from pipeline.evaluate.nets import EvalNet, apply, to_tensor
from pipeline.precision import cpu_autocast
from pipeline.synth.background import render_background
from pipeline.synth.identity import sample_identity
from pipeline.synth.performance import FIELDS, frame_of, random_performance
from pipeline.synth.render import render_frame

POSE = ("yaw", "pitch", "roll")
EXPRESSION = ("mouth_open", "smile", "blink")
PERFORMANCE = POSE + EXPRESSION
BLUR_CHECK = 1.0  # sigma (crop pixels) of the softened held-out read in the report
_LOW = np.array([FIELDS[k][0] for k in PERFORMANCE], np.float32)
_SPAN = np.array([FIELDS[k][1] - FIELDS[k][0] for k in PERFORMANCE], np.float32)


@dataclass
class Gallery:
    names: list[str]
    identity_crops: np.ndarray  # (N, S, S, 3) uint8
    pose_crops: np.ndarray  # (N, S, S, 3) uint8
    labels: np.ndarray  # (N,) index into names
    performance: np.ndarray  # (N, 6) in PERFORMANCE order, native units
    held_out: np.ndarray  # (N,) bool


def gallery_people(data: DictConfig, ev: DictConfig) -> list[tuple[str, int]]:
    # Synthetic swap identities join the gallery; real ones cannot be rendered.
    swap = [(i.name, int(i.seed)) for i in data.identities] if data.source == "synthetic" else []
    extra = [(f"gallery_{k:03d}", ev.gallery_seed + k) for k in range(ev.gallery_identities)]
    return swap + extra


def render_gallery(data: DictConfig, ev: DictConfig) -> Gallery:
    people = gallery_people(data, ev)
    n = ev.frames_per_identity
    held = max(1, int(round(n * ev.held_out)))
    ids, poses, labels, perf, held_out = [], [], [], [], []
    with tqdm(total=len(people) * n, desc="evaluators: render", unit="frame") as bar:
        for label, (name, seed) in enumerate(people):
            idt = sample_identity(name, seed)
            p = random_performance(seed * 31 + 7, n)  # not the training faces' performances
            backgrounds = [
                render_background(seed * 77 + k, ev.gallery_frame_size) for k in range(4)
            ]
            for i in range(n):
                fp = frame_of(p, i)
                frame = render_frame(idt, fp, backgrounds[i % 4])
                ids.append(identity_crop(frame.image, frame.landmarks))
                poses.append(pose_crop(frame.image, frame.landmarks))
                labels.append(label)
                perf.append([fp[k] for k in PERFORMANCE])
                held_out.append(i >= n - held)
                bar.update()
    return Gallery(
        [name for name, _ in people],
        np.stack(ids),
        np.stack(poses),
        np.array(labels),
        np.array(perf, np.float32),
        np.array(held_out),
    )


def _augment(
    x: torch.Tensor, g: torch.Generator, tint: float = 0.0, blur: float = 0.0, noise: float = 0.0
) -> torch.Tensor:
    """Brightness/contrast jitter and shifts of up to 2 pixels: what H.264 and alignment
    noise do to a frame, so the evaluators do not key on pixel-exact renders. ``tint``:
    per-channel gains of up to +-tint, so identity rests on the face's features more than
    on its skin tone, which colour transfer takes from the target. ``blur``: a Gaussian of
    up to that sigma (crop pixels) on half the batch, so identity rests on the shape of
    the eyes, nose and mouth rather than on pixel-level skin texture that any resampling
    or encoder softens. ``noise``: Gaussian pixel noise of a standard deviation up to that
    many grey levels, so the provenance watermark every output carries (+-3 levels, a
    different pattern per run) or a camera's grain cannot move the read."""
    b = x.shape[0]
    if blur > 0:
        sigma = (torch.rand(b, generator=g) * blur).clamp_(min=0.05)
        sigma[torch.rand(b, generator=g) < 0.5] = 0.05  # ~identity: half stay sharp
        x = kornia.filters.gaussian_blur2d(x, (7, 7), sigma[:, None].expand(b, 2).contiguous())
    gain = 1 + (torch.rand(b, 1, 1, 1, generator=g) - 0.5) * 0.3
    if tint > 0:
        gain = gain * (1 + (torch.rand(b, 3, 1, 1, generator=g) * 2 - 1) * tint)
    bias = (torch.rand(b, 1, 1, 1, generator=g) - 0.5) * 0.1
    dx, dy = (int(v) for v in torch.randint(-2, 3, (2,), generator=g))
    x = torch.roll(x, (dy, dx), (2, 3)) * gain + bias
    if noise > 0:
        x = x + torch.randn(x.shape, generator=g) * (
            torch.rand(b, 1, 1, 1, generator=g) * noise / 255
        )
    return x.clamp_(0, 1)


def train_net(
    crops: np.ndarray,
    targets: np.ndarray,
    classes: int,
    ev: DictConfig,
    seed: int,
    desc: str,
    tint: float = 0.0,
    blur: float = 0.0,
    noise: float = 0.0,
) -> EvalNet:
    """Cross-entropy when ``classes`` > 0, else L1 regression of ``targets``."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    net = EvalNet(classes or targets.shape[1], ev.width).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(net.parameters(), lr=ev.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, ev.lr, total_steps=ev.steps)
    x_all = to_tensor(crops)
    y_all = torch.from_numpy(targets)
    net.train()
    for _ in tqdm(range(ev.steps), desc=desc, unit="step"):
        idx = torch.randint(0, len(x_all), (ev.batch_size,), generator=g)
        x = _augment(x_all[idx], g, tint, blur, noise)
        with cpu_autocast():
            out = net(x)
        out = out.float()
        loss = F.cross_entropy(out, y_all[idx]) if classes else F.l1_loss(out, y_all[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return net.eval()


@dataclass
class Evaluators:
    identity: EvalNet
    performance: EvalNet
    names: list[str]
    centroids: np.ndarray  # (identities, embedding) unit vectors

    def identify(self, crops: np.ndarray) -> np.ndarray:
        """Index of the nearest gallery identity (cosine, embedding centroids) per crop."""
        e = apply(self.identity, crops, embed=True)
        e /= np.linalg.norm(e, axis=1, keepdims=True) + 1e-9
        return (e @ self.centroids.T).argmax(1)

    def perform(self, crops: np.ndarray) -> np.ndarray:
        """(N, 6) yaw, pitch, roll (degrees), mouth_open, smile, blink."""
        return apply(self.performance, crops) * _SPAN + _LOW


def build_evaluators(g: Gallery, ev: DictConfig, seed: int) -> tuple[Evaluators, dict]:
    train = ~g.held_out
    id_net = train_net(
        g.identity_crops[train],
        g.labels[train],
        len(g.names),
        ev,
        seed,
        "evaluators: identity",
        ev.identity_tint,
        ev.identity_blur,
        ev.identity_noise,
    )
    norm = ((g.performance - _LOW) / _SPAN).astype(np.float32)
    perf_net = train_net(
        g.pose_crops[train], norm[train], 0, ev, seed + 1, "evaluators: performance"
    )
    emb = apply(id_net, g.identity_crops[train], embed=True)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True) + 1e-9
    cents = np.stack([emb[g.labels[train] == k].mean(0) for k in range(len(g.names))])
    cents /= np.linalg.norm(cents, axis=1, keepdims=True) + 1e-9
    evs = Evaluators(id_net, perf_net, g.names, cents.astype(np.float32))
    held = g.held_out
    top1 = float((evs.identify(g.identity_crops[held]) == g.labels[held]).mean())
    # The same read after a 1-pixel blur: a swap is never pixel-sharp, and an evaluator
    # that cannot name a softened face would score every swap 0.
    softened = np.stack([cv2.GaussianBlur(c, (0, 0), BLUR_CHECK) for c in g.identity_crops[held]])
    top1_soft = float((evs.identify(softened) == g.labels[held]).mean())
    err = np.abs(evs.perform(g.pose_crops[held]) - g.performance[held]).mean(0)
    report = {
        "identities": len(g.names),
        "held_out_frames": int(held.sum()),
        "identity_top1": round(top1, 4),
        "identity_top1_blurred": round(top1_soft, 4),
        "chance_top1": round(1 / len(g.names), 4),
        "pose_mae_degrees": round(float(err[:3].mean()), 3),
        "expression_mae": round(float(err[3:].mean()), 4),
    }
    report |= {f"mae_{k}": round(float(v), 4) for k, v in zip(PERFORMANCE, err)}
    return evs, report


def save_evaluators(evs: Evaluators, folder: Path, report: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, net in (("identity", evs.identity), ("performance", evs.performance)):
        save_file(
            {k: v.contiguous() for k, v in net.state_dict().items()}, folder / f"{name}.safetensors"
        )
    np.save(folder / "centroids.npy", evs.centroids)
    meta = {
        "names": evs.names,
        "crop": CROP,
        "identity": evs.identity.config,
        "performance": evs.performance.config,
        "performance_fields": list(PERFORMANCE),
        "report": report,
    }
    (folder / "evaluators.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def load_evaluators(folder: Path) -> tuple[Evaluators, dict]:
    from pipeline.errors import UserError

    meta_path = folder / "evaluators.json"
    if not meta_path.is_file():
        raise UserError(f"{folder} holds no evaluators; run dvc repro evaluators.")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    nets = []
    for name in ("identity", "performance"):
        c = meta[name]
        net = EvalNet(c["outputs"], c["width"], c["embedding"])
        net.load_state_dict(load_file(str(folder / f"{name}.safetensors")))
        nets.append(net.to(memory_format=torch.channels_last).eval())
    return Evaluators(nets[0], nets[1], meta["names"], np.load(folder / "centroids.npy")), meta
