"""Training speed: the full Lightning step against a plain PyTorch loop, and utilisation.

For each preset, the same model initialisation and the same pre-built batches go
through (a) Lightning's Trainer with the project's SwapModule and (b) a hand-written
loop doing the same work (losses, backward, gradient clipping, AdamW, LR schedule).
A sample is one face of each identity (both decoders train on every step). FLOPs come
from torch's FlopCounterMode over one step; the machine's dense fp32 matmul rate is
measured in the same run, so utilisation = FLOP/s achieved / matmul FLOP/s.
``--accelerator gpu`` runs both on the first CUDA device (batches start on the host, as
the data loader hands them over); ``--batch-sizes`` adds the default preset at other
batch sizes. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
import warnings

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.flop_counter import FlopCounterMode

from pipeline.config.compose import compose_conf
from pipeline.config.load import validate
from pipeline.precision import training as training_precision
from pipeline.train.augment import augment
from pipeline.train.models.swap import build_model
from pipeline.train.module import SwapModule


def augment_rate(cfg, seconds: float = 3.0) -> float:
    """Samples per second that one process's augmentation (random affine, colour shift,
    random warp, priority masks) makes for ``cfg``: the data loader's rate per worker."""
    size = cfg.model.input_size
    rng = np.random.default_rng(0)
    face = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    mask = np.full((size, size), 255, np.uint8)
    landmarks = rng.uniform(0.2 * size, 0.8 * size, (68, 2))
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(2):  # a sample is one face of each identity
            augment(rng, face, mask, landmarks, cfg.train.augment)
        n += 1
    return n / (time.perf_counter() - start)


def make_batches(n: int, batch: int, size: int, seed: int = 0) -> list[dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        img = torch.randint(0, 256, (batch, 2, 3, size, size), generator=g, dtype=torch.uint8)
        out.append(
            {
                "input": img,
                "target": img.flip(-1).contiguous(),
                "mask": (torch.rand(batch, 2, 1, size, size, generator=g) > 0.3).float(),
                "priority": (torch.rand(batch, 2, 2, size, size, generator=g) > 0.9).float(),
            }
        )
    return out


class _Timer(pl.Callback):
    def __init__(self, warm: int, total: int, device: str):
        self.warm, self.total, self.seen, self.start, self.end = warm, total, 0, None, None
        self.device = device

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if self.seen == self.warm:
            _sync(self.device)
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.seen += 1
        if self.seen == self.total:  # waiting on the GPU only here, as the plain loop does
            _sync(self.device)
            self.end = time.perf_counter()


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def lightning_rate(
    module: SwapModule, batches, warm: int, clip: float, precision: str, device: str
) -> float:
    timer = _Timer(warm, len(batches), device)
    trainer = pl.Trainer(
        accelerator="gpu" if device == "cuda" else "cpu",
        devices=1,
        precision=precision,
        max_steps=len(batches),
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        gradient_clip_val=clip or None,
        callbacks=[timer],
    )
    loader = torch.utils.data.DataLoader(batches, batch_size=None, shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(module, loader)
    b = batches[0]["input"].shape[0]
    return (len(batches) - warm) * b / (timer.end - timer.start)


def plain_rate(
    module: SwapModule, batches, warm: int, clip: float, precision: str, device: str
) -> float:
    module.to(device)
    conf = module.configure_optimizers()
    bf16 = precision.startswith("bf16")
    opt, sched = conf["optimizer"], conf["lr_scheduler"]["scheduler"]
    module.train()
    start = None
    for i, batch in enumerate(batches):
        if i == warm:
            _sync(device)
            start = time.perf_counter()
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
            loss = module.losses(batch)["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
        opt.step()
        sched.step()
    _sync(device)
    b = batches[0]["input"].shape[0]
    return (len(batches) - warm) * b / (time.perf_counter() - start)


def flops_per_sample(module: SwapModule, batch, device: str) -> float:
    module.to(device)
    batch = {k: v.to(device) for k, v in batch.items()}
    counter = FlopCounterMode(display=False)
    with counter:
        module.losses(batch)["loss"].backward()
    module.zero_grad(set_to_none=True)
    return counter.get_total_flops() / batch["input"].shape[0]


def matmul_flops(dtype: torch.dtype = torch.float32, device: str = "cpu") -> float:
    n, reps = (8192, 20) if device == "cuda" else (2048, 10)
    a = torch.rand(n, n, dtype=dtype, device=device)
    b = torch.rand(n, n, dtype=dtype, device=device)
    a @ b
    best = float("inf")
    for _ in range(3):
        _sync(device)
        start = time.perf_counter()
        for _ in range(reps):
            a @ b
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return reps * 2 * n**3 / best


def bench_preset(
    overrides: list[str], steps: int, warm: int, rounds: int, device: str = "cpu"
) -> dict:
    cfg = validate(compose_conf(overrides))
    torch.manual_seed(0)
    base = SwapModule(build_model(cfg.model), cfg.train, ["a", "b"])
    batches = make_batches(steps, cfg.train.batch_size, cfg.model.input_size)
    clip = cfg.train.grad_clip
    precision = training_precision("gpu" if device == "cuda" else "cpu", cfg.trainer.precision)
    light, plain = [], []
    for _ in range(rounds):  # interleaved, so drift in machine speed hits both alike
        light.append(lightning_rate(copy.deepcopy(base), batches, warm, clip, precision, device))
        plain.append(plain_rate(copy.deepcopy(base), batches, warm, clip, precision, device))
    fps = flops_per_sample(copy.deepcopy(base), batches[0], device)
    return {
        "overrides": overrides,
        "precision": precision,
        "batch_size": cfg.train.batch_size,
        "input_size": cfg.model.input_size,
        "parameters_millions": round(sum(p.numel() for p in base.parameters()) / 1e6, 2),
        "lightning_samples_per_second": round(statistics.median(light), 2),
        "plain_samples_per_second": round(statistics.median(plain), 2),
        "lightning_over_plain": round(statistics.median(light) / statistics.median(plain), 3),
        "gflop_per_sample": round(fps / 1e9, 3),
        "achieved_gflops": round(fps * statistics.median(light) / 1e9, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--warm", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--accelerator", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[])
    args = parser.parse_args()
    device = "cuda" if args.accelerator == "gpu" else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--accelerator gpu: this machine has no CUDA GPU; use --accelerator cpu.")
    # Utilisation is against dense matmul in the precision the preset trains in.
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16}
    peaks = {k: matmul_flops(dtype=d, device=device) for k, d in dtypes.items()}
    presets = {"default": [], "original": ["model=original"]}
    for b in args.batch_sizes:
        presets[f"default_batch{b}"] = [f"train.batch_size={b}"]
    out = {
        "benchmark": "train_step",
        "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        # Workers needed to feed a preset = its samples/s over this figure.
        "augment_samples_per_second_per_process": round(
            augment_rate(validate(compose_conf([]))), 1
        ),
        "matmul_gflops": {k: round(v / 1e9, 1) for k, v in peaks.items()},
        "presets": {},
    }
    for name, overrides in presets.items():
        r = bench_preset(overrides, args.steps, args.warm, args.rounds, device)
        peak = peaks["bf16" if r["precision"].startswith("bf16") else "fp32"]
        r["utilisation"] = round(r["achieved_gflops"] * 1e9 / peak, 3)
        out["presets"][name] = r
    # Measured again at the end: a drift between the two says the machine was busy.
    out["matmul_gflops_after"] = {
        k: round(matmul_flops(dtype=d, device=device) / 1e9, 1) for k, d in dtypes.items()
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
