"""The training data: every step draws one augmented face of each identity per sample.

Sample ``i`` of the run is drawn with a generator seeded by (seed, i), and the sampler
starts at the restored step, so a resumed run sees exactly the batches it would have
seen, and the result does not depend on the number of workers or processes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig
from torch.utils.data import DataLoader, Dataset, Sampler

from pipeline.errors import UserError
from pipeline.train.augment import Sample, augment, plain
from pipeline.train.faceset import FaceSet, load_face_set, split_indices
from pipeline.train.module import polish_start


def _to_tensors(samples: list[Sample]) -> dict[str, torch.Tensor]:
    """Stack one sample per identity: images (K, 3, S, S) uint8, masks (K, 1|2, S, S)."""
    return {
        "input": torch.from_numpy(np.stack([s.input.transpose(2, 0, 1) for s in samples])),
        "target": torch.from_numpy(np.stack([s.target.transpose(2, 0, 1) for s in samples])),
        "mask": torch.from_numpy(np.stack([s.mask[None] for s in samples])),
        "priority": torch.from_numpy(np.stack([s.priority for s in samples])),
    }


class TrainPairs(Dataset):
    """Item i: one augmented face of every identity, drawn by a generator seeded (seed, i)."""

    def __init__(
        self,
        sets: list[FaceSet],
        indices: list[np.ndarray],
        aug: DictConfig,
        seed: int,
        length: int,
        warp_until: int | None = None,
    ):
        self.sets, self.indices, self.aug, self.seed, self.length = sets, indices, aug, seed, length
        # Samples from this number on (the polish phase) are drawn without random warp.
        self.warp_until = length if warp_until is None else warp_until

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, i])
        samples = []
        for fs, idx in zip(self.sets, self.indices):
            j = idx[rng.integers(len(idx))]
            samples.append(
                augment(
                    rng, fs.faces[j], fs.masks[j], fs.landmarks[j], self.aug, i < self.warp_until
                )
            )
        return _to_tensors(samples)


class HeldOut(Dataset):
    """Validation: the held-out faces, un-augmented; item i pairs the i-th of each identity."""

    def __init__(self, sets: list[FaceSet], indices: list[np.ndarray]):
        self.sets, self.indices = sets, indices

    def __len__(self) -> int:
        return max(len(i) for i in self.indices)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        out = []
        for fs, idx in zip(self.sets, self.indices):
            j = idx[i % len(idx)]
            out.append(plain(fs.faces[j], fs.masks[j], fs.landmarks[j]))
        return _to_tensors(out)


class StepSampler(Sampler[int]):
    """Sample numbers from ``start`` on, this rank's share of each global batch.

    Its length is that of the whole run, as Lightning expects when it restores a run in
    the middle of the epoch (it counts on from the restored batch, without skipping);
    iteration starts at ``start`` so the batches continue where the run stopped.
    """

    def __init__(self, start: int, stop: int, rank: int = 0, world: int = 1):
        self.start, self.stop, self.rank, self.world = start, stop, rank, world

    def __iter__(self):
        return iter(range(self.start + self.rank, self.stop, self.world))

    def __len__(self) -> int:
        return len(range(self.rank, self.stop, self.world))


class FaceDataModule(pl.LightningDataModule):
    def __init__(
        self, faces_dir: Path, identities: list[str], input_size: int, train: DictConfig, seed: int
    ):
        super().__init__()
        self.faces_dir, self.identities = Path(faces_dir), identities
        self.input_size, self.train_cfg, self.seed = input_size, train, seed
        self.sets: list[FaceSet] = []

    def setup(self, stage: str | None = None) -> None:
        if self.sets:
            return
        self.sets = [load_face_set(self.faces_dir / n, self.input_size) for n in self.identities]
        splits = [split_indices(len(s), self.train_cfg.val_fraction) for s in self.sets]
        self.train_idx = [s[0] for s in splits]
        self.val_idx = [s[1] if len(s[1]) else s[0][:1] for s in splits]

    @property
    def coverage(self) -> float:
        """Head units the faces span; every identity's must agree (one collect run)."""
        found = {s.coverage for s in self.sets}
        if len(found) != 1:
            raise UserError(
                f"{self.faces_dir} mixes crops of coverage {sorted(found)}; re-run collect."
            )
        return found.pop()

    def _world(self) -> tuple[int, int]:
        t = self.trainer
        return (t.global_rank, t.world_size) if t is not None else (0, 1)

    def train_dataloader(self) -> DataLoader:
        rank, world = self._world()
        b = self.train_cfg.batch_size
        step = self.trainer.global_step if self.trainer is not None else 0
        total = self.train_cfg.max_steps * b * world
        sampler = StepSampler(step * b * world, total, rank, world)
        warp_until = polish_start(self.train_cfg) * b * world
        data = TrainPairs(
            self.sets, self.train_idx, self.train_cfg.augment, self.seed, total, warp_until
        )
        workers = self.train_cfg.num_workers
        return DataLoader(
            data,
            batch_size=b,
            sampler=sampler,
            num_workers=workers,
            persistent_workers=workers > 0,
            drop_last=True,
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(HeldOut(self.sets, self.val_idx), batch_size=self.train_cfg.batch_size)

    def preview_batch(self, n: int) -> dict[str, torch.Tensor]:
        """The first ``n`` held-out faces of each identity, fixed for the whole run."""
        data = HeldOut(self.sets, self.val_idx)
        items = [data[i] for i in range(min(n, len(data)))]
        return {k: torch.stack([it[k] for it in items]) for k in items[0]}
