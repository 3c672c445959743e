"""Swap quality versus training compute, averaged over random identity pairs.

For each recipe and each of ``--pairs`` identity pairs drawn at random (never the
default seeds nor the evaluators' gallery seeds), in a scratch project of its own:
collect renders the pair and its target clip, the evaluators train on their gallery
(the pipeline's own commands), and the model trains for each budget of ``--budgets``
minutes of this machine's CPU. Steps come from a rate measured by a short timed run of
the same recipe. After each budget, generate, refine and evaluate run as the pipeline
runs them, and the figures are read from reports/metrics.json.

A recipe with ``train.schedule=polish`` trains one trunk run per pair to the largest
budget and saves its state where each smaller budget's polish phase begins; the smaller
budget resumes from there and polishes. Before the polish phase the schedule does not
depend on the run's length, so every point is exactly what a run of that length gives.
Other schedules (cosine decays over the whole run) train each budget from scratch.

Prints one JSON object: per recipe and budget the mean, spread (standard deviation)
and range over pairs of identity retrieval (swap and truth), SSIM, PSNR and eye SSIM
against the face-swap truth, and SSIM and PSNR against the whole-head truth.
``--plot`` draws the curve, ``--previews`` keeps the first pair's preview grids.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import paths  # noqa: E402
from pipeline.config.compose import compose_conf  # noqa: E402
from pipeline.config.load import validate  # noqa: E402
from pipeline.train.module import polish_start  # noqa: E402
from pipeline.train.resume import fingerprint  # noqa: E402
from pipeline.train.stage import train, write_outputs  # noqa: E402

# The recipe before issue 10, to compare against in the same run.
BEFORE = [
    "data.coverage=1.9",
    "train.schedule=cosine",
    "train.polish_share=0.0",
    "train.ema=0.0",
    "train.eye_weight=3.0",
    "train.mouth_weight=2.0",
    "train.max_steps=1800",
    "train.init=''",
    "train.true_face_weight=0.0",
]
RECIPES = {
    "current": [],
    "before": BEFORE,
    # The recipe of the step before DeepFaceLab's "true face" went in (issue 10).
    "no_true_face": ["train.true_face_weight=0.0"],
    # The recipe before the polish phase grew from a fifth of the steps to three fifths.
    "polish_0.2": ["train.polish_share=0.2"],
}
# The curve is the face swap's: the bench runs no voice stage, and evaluate's voice
# figures would look for their outputs.
FACE_ONLY = ["voice=none"]
FIGURES = (
    "identity_retrieval",
    "identity_retrieval_truth",
    "identity_retrieval_head_truth",
    "ssim",
    "psnr",
    "eye_ssim",
    "ssim_head_truth",
    "psnr_head_truth",
)
DEFAULT_SEEDS = {5, 7, 8, 11}  # the default identities' and targets' seeds


def draw_pairs(n: int, seed: int) -> list[dict[str, int]]:
    """Identity and target seeds, never the defaults nor the gallery's (5000 on)."""
    rng = np.random.default_rng(seed)
    pairs = []
    while len(pairs) < n:
        a, b, t, s = (int(v) for v in rng.integers(12, 4000, 4))
        if len({a, b, t, s} | DEFAULT_SEEDS) == 4 + len(DEFAULT_SEEDS):
            pairs.append({"a": a, "b": b, "target": t, "stills": s})
    return pairs


def pair_overrides(p: dict[str, int]) -> list[str]:
    return [
        f"data.identities.0.seed={p['a']}",
        f"data.identities.1.seed={p['b']}",
        f"data.targets.0.seed={p['target']}",
        f"data.stills.0.seed={p['stills']}",
    ]


@contextmanager
def inside(folder: Path):
    """Run with ``folder`` as the project: its working directory and DVC_ROOT."""
    old, env = Path.cwd(), os.environ.get("DVC_ROOT")
    os.chdir(folder)
    os.environ["DVC_ROOT"] = str(folder)
    try:
        yield
    finally:
        os.chdir(old)
        if env is None:
            os.environ.pop("DVC_ROOT", None)
        else:
            os.environ["DVC_ROOT"] = env


def stage(folder: Path, *args: str) -> None:
    """One of the pipeline's stage commands, run in the scratch project."""
    env = os.environ | {"DVC_ROOT": str(folder), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", *args], cwd=folder, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed in {folder}:\n{done.stderr[-2000:]}")


class SaveAt(pl.Callback):
    """Saves the trainer's state after each of ``steps`` to ``folder/step_<n>.ckpt``."""

    def __init__(self, steps: set[int], folder: Path):
        self.steps, self.folder = steps, folder

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step in self.steps:
            trainer.save_checkpoint(self.folder / f"step_{trainer.global_step}.ckpt")


def with_steps(raw: dict, steps: int):
    return validate({**raw, "train": {**raw["train"], "max_steps": steps}})


def measure_rate(raw: dict, folder: Path, steps: int = 40) -> float:
    """Training steps per minute of this recipe on this machine (warm-up excluded)."""
    cfg = with_steps(raw, steps)
    result = train(cfg, None, folder / "calibrate")
    shutil.rmtree(folder / "calibrate")
    return result["report"]["samples_per_second"] * 60 / cfg.train.batch_size


def score(folder: Path) -> dict:
    for args in (("pipeline.generate",), ("pipeline.refine",), ("pipeline.evaluate",)):
        stage(folder, *args)
    metrics = json.loads((folder / "reports/metrics.json").read_text())
    return {k: metrics[k] for k in FIGURES if k in metrics}


def run_pair(
    raw: dict,
    folder: Path,
    budgets: list[float],
    keep_previews: Path | None,
    evaluators: Path | None = None,
) -> list:
    """Figures after each budget (minutes) for one pair and recipe; ``evaluators``: a
    project whose evaluators were trained for this pair already (they do not depend on the
    recipe)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    if raw["train"]["init"]:  # the committed pretrained weights
        shutil.copytree(ROOT / raw["train"]["init"], folder / raw["train"]["init"])
    stage(folder, "pipeline.collect")
    stage(folder, "pipeline.segment")  # generate's occlusion masks; no recipe changes it
    if evaluators is None:
        stage(folder, "pipeline.evaluate", "evaluators")
    else:
        shutil.copytree(evaluators / "evaluators", folder / "evaluators")
        (folder / "reports").mkdir(exist_ok=True)
        shutil.copy(evaluators / "reports/evaluators.json", folder / "reports")
    points = []
    with inside(folder):
        rate = measure_rate(raw, folder)
        steps = [max(10, int(round(m * rate))) for m in budgets]
        cfgs = [with_steps(raw, s) for s in steps]
        trunk_dir, names = folder / "checkpoints", [i.name for i in cfgs[0].data.identities]
        branch = cfgs[0].train.schedule == "polish"
        starts = {polish_start(c.train) for c in cfgs[:-1]} if branch else set()
        order = [len(cfgs) - 1, *range(len(cfgs) - 1)] if branch else range(len(cfgs))
        for k in order:
            cfg, ckpts = cfgs[k], folder / f"run_{k}"
            if branch and k < len(cfgs) - 1:
                # Resume the trunk where this budget's polish phase starts.
                ckpts.mkdir()
                shutil.copy(trunk_dir / f"step_{polish_start(cfg.train)}.ckpt", ckpts / "last.ckpt")
                (ckpts / "fingerprint.txt").write_text(fingerprint(cfg, paths.FACES, names) + "\n")
            extra = [SaveAt(starts, trunk_dir)] if branch and k == len(cfgs) - 1 else []
            trunk_dir.mkdir(exist_ok=True)
            t0 = time.perf_counter()
            result = train(cfg, None, ckpts, callbacks=extra)
            seconds = time.perf_counter() - t0
            write_outputs(cfg, result)
            shutil.rmtree(ckpts)
            if keep_previews is not None:
                shutil.copy(folder / "models/preview.png", keep_previews / f"preview_{k}.png")
            point = {"minutes": budgets[k], "steps": steps[k], "train_seconds": round(seconds, 1)}
            points.append(point | score(folder))
            print(json.dumps({"pair": folder.parent.name, **point}), file=sys.stderr, flush=True)
    return sorted(points, key=lambda p: p["minutes"])


def summarise(per_pair: list[list[dict]]) -> list[dict]:
    out = []
    for k in range(len(per_pair[0])):
        pts = [pp[k] for pp in per_pair]
        row = {"minutes": pts[0]["minutes"], "steps": [p["steps"] for p in pts]}
        for f in FIGURES:
            v = np.array([p[f] for p in pts if f in p], np.float64)
            if len(v):
                row[f] = {
                    "mean": round(float(v.mean()), 4),
                    "spread": round(float(v.std()), 4),
                    "min": round(float(v.min()), 4),
                    "max": round(float(v.max()), 4),
                }
        out.append(row)
    return out


def plot(curves: dict[str, list[dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("identity_retrieval", "identity retrieval (top-1)"),
        ("ssim", "SSIM vs face-swap truth"),
        ("psnr", "PSNR vs face-swap truth (dB)"),
        ("eye_ssim", "eye-region SSIM"),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.4))
    for ax, (key, title) in zip(axes, panels):
        for name, rows in curves.items():
            x = [r["minutes"] for r in rows]
            m = np.array([r[key]["mean"] for r in rows])
            s = np.array([r[key]["spread"] for r in rows])
            ax.plot(x, m, "o-", label=name)
            ax.fill_between(x, m - s, m + s, alpha=0.2)
        if key == "identity_retrieval":
            truth = [r["identity_retrieval_truth"]["mean"] for r in next(iter(curves.values()))]
            ax.plot(x, truth, "k--", lw=1, label="face-swap truth")
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.set_xlabel("training minutes, 2 CPU cores")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def run_recipe(name: str, pairs: list[dict], budgets: list[float], args, first: dict) -> list:
    """Every pair's points for one recipe; ``first`` maps a pair to the project whose
    evaluators it reuses (filled by the first recipe)."""
    per_pair = []
    for i, p in enumerate(pairs):
        overrides = FACE_ONLY + RECIPES[name] + pair_overrides(p) + args.overrides
        raw = compose_conf(overrides, ROOT / "conf")
        folder = args.work / f"pair{i}" / name
        shutil.rmtree(folder, ignore_errors=True)
        keep = None
        if args.previews is not None and i == 0:
            keep = args.previews / name
            keep.mkdir(parents=True, exist_ok=True)
        per_pair.append(run_pair(raw, folder, budgets, keep, first.get(i)))
        first.setdefault(i, folder)
    return per_pair


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--budgets", default="2,5,10,20,40", help="minutes of training, comma-separated"
    )
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=2026, help="draws the identity pairs")
    ap.add_argument(
        "--recipes", default="current", help=f"comma-separated, of {', '.join(RECIPES)}"
    )
    ap.add_argument("--work", type=Path, default=ROOT / ".bench/quality_curve")
    ap.add_argument("--plot", type=Path, help="write the curve as a PNG here")
    ap.add_argument("--previews", type=Path, help="keep the first pair's preview grids here")
    ap.add_argument("overrides", nargs="*", help="Hydra overrides for every recipe")
    args = ap.parse_args()
    budgets = sorted(float(b) for b in args.budgets.split(","))
    pairs = draw_pairs(args.pairs, args.seed)
    start = time.perf_counter()
    curves, raw_points, first = {}, {}, {}
    # Training draws progress bars on stdout; the JSON alone goes there.
    with contextlib.redirect_stdout(sys.stderr):
        for name in args.recipes.split(","):
            raw_points[name] = run_recipe(name, pairs, budgets, args, first)
            curves[name] = summarise(raw_points[name])
    if args.plot is not None:
        plot(curves, args.plot)
    pretrained = ROOT / "pretrained/model.json"
    # What the pretrained start cost once, on the machine that made it: add it to a
    # recipe's minutes when comparing it with one that starts from scratch.
    seconds = json.loads(pretrained.read_text()).get("seconds") if pretrained.is_file() else None
    pretrain_minutes = round(seconds / 60, 1) if seconds is not None else None
    print(
        json.dumps(
            {
                "pairs": pairs,
                "budgets_minutes": budgets,
                "pretrain_minutes": pretrain_minutes,
                "curves": curves,
                "points": raw_points,
                "bench_minutes": round((time.perf_counter() - start) / 60, 1),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
