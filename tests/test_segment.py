"""The occlusion segmenter (issue 12): training pairs with an occluder drawn in front and
left out of the mask, training that resumes exactly, a network that learns to leave
occluders out, and generate taking its masks for refine's occlusion source."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from pipeline.collect import synthetic
from pipeline.faces.mask import hull_mask
from pipeline.generate.swapper import Swapper
from pipeline.segment.data import OccludedBatches, occluded_face
from pipeline.segment.model import segment
from pipeline.train.faceset import FaceSet
from tests.helpers import killed_then_resumed, smoke_cfg

STILL = {"rotate": 0.0, "zoom": 0.0, "shift": 0.0, "brightness": 0.0}


def _face_set(name: str, seed: int, n: int, occlusion: float = 0.0) -> FaceSet:
    data = smoke_cfg(f"data.occlusion={occlusion}", "data.crop_size=64").data
    idt = synthetic.identities(data)[name]
    faces = list(synthetic.training_faces(idt, seed, n, data))
    return FaceSet(
        name,
        np.stack([f.crop for f in faces]),
        np.stack([f.mask for f in faces]),
        np.stack([f.landmarks for f in faces]).astype(np.float32),
        [f"{k:05d}.png" for k in range(n)],
    )


def _upright(fs: FaceSet, k: int, rng, cfg) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A still training pair of face ``k``, un-mirrored, and the face's landmark hull."""
    face, mask = occluded_face(fs.faces[k], fs.masks[k], fs.landmarks[k], rng, cfg)
    hull = hull_mask(fs.landmarks[k], mask.shape)
    if not (mask <= hull).all():  # mirrored (half the time)
        face, mask = face[:, ::-1], mask[:, ::-1]
    return face, mask, hull


@pytest.fixture(scope="module")
def faces() -> FaceSet:
    return _face_set("synth_a", 11, 24)


def test_a_training_pair_leaves_the_drawn_occluder_out_of_the_mask(faces):
    cfg = OmegaConf.create({"occlusion": 1.0, **STILL})
    rng = np.random.default_rng(3)
    smaller, off = 0, []
    for k in range(len(faces)):
        face, mask, hull = _upright(faces, k, rng, cfg)
        assert (mask <= hull).all(), k  # never more than the face
        moved = np.abs(face.astype(int) - faces.faces[k]).max(2) > 40
        off.extend(mask[moved & (hull == 255)] < 128)
        smaller += mask.sum() < 0.97 * faces.masks[k].sum()
    assert smaller >= 0.8 * len(faces), smaller
    assert np.mean(off) > 0.8, np.mean(off)  # where the occluder shows, the mask is off


def test_batches_are_a_function_of_the_seed_and_the_step(faces):
    cfg = OmegaConf.create({"occlusion": 0.8, "steps": 10, "batch_size": 4, **STILL})
    a, b = OccludedBatches([faces], cfg, 0), OccludedBatches([faces], cfg, 0)
    assert torch.equal(a[3]["input"], b[3]["input"]) and torch.equal(a[3]["target"], b[3]["target"])
    assert not torch.equal(a[3]["input"], a[4]["input"])
    assert not torch.equal(a[3]["input"], OccludedBatches([faces], cfg, 1)[3]["input"])
    assert a[0]["input"].shape == (4, 3, 64, 64) and a[0]["target"].shape == (4, 1, 64, 64)


def _write(fs: FaceSet, folder) -> None:
    import json

    import cv2

    (folder / "masks").mkdir(parents=True)
    recs = []
    for k, name in enumerate(fs.files):
        cv2.imwrite(str(folder / name), fs.faces[k])
        cv2.imwrite(str(folder / "masks" / name), fs.masks[k])
        recs.append({"file": name, "mask": f"masks/{name}", "landmarks": fs.landmarks[k].tolist()})
    (folder / "index.json").write_text(json.dumps({"coverage": fs.coverage, "faces": recs}))


@pytest.fixture(scope="module")
def faces_dir(faces, tmp_path_factory):
    root = tmp_path_factory.mktemp("faces")
    _write(faces, root / "synth_a")
    _write(_face_set("synth_b", 8, 24), root / "synth_b")
    return root


def _train(faces_dir, ckpt, stop_at=None, **over):
    from pipeline.segment import train as T

    cfg = OmegaConf.merge(smoke_cfg().segment, over)
    names = ["synth_a", "synth_b"]
    if stop_at is None:
        return T.train_segmenter(cfg, 0, faces_dir, names, 64, ckpt)
    return killed_then_resumed(
        lambda: T.train_segmenter(cfg, 0, faces_dir, names, 64, ckpt), stop_at
    )


def test_segment_training_is_deterministic_and_resumes_exactly(faces_dir, tmp_path):
    whole = _train(faces_dir, tmp_path / "a")
    again = _train(faces_dir, tmp_path / "b")
    resumed = _train(faces_dir, tmp_path / "c", stop_at=4)
    assert resumed["report"]["resumed_from_step"] == 4
    assert whole["report"]["steps"] == resumed["report"]["steps"] == 6
    assert whole["preview"].shape[2] == 3
    for k, v in whole["module"].net.state_dict().items():
        assert torch.equal(v, again["module"].net.state_dict()[k]), k
        assert torch.allclose(
            v.float(), resumed["module"].net.state_dict()[k].float(), atol=1e-6
        ), k


def test_the_segmenter_learns_to_leave_occluders_out(faces_dir, tmp_path):
    """On faces it never saw (another seed), with an occluder in front of each, it leaves
    out most of what covers the face (the landmark hull leaves out none) and keeps
    most of the face."""
    net = _train(faces_dir, tmp_path / "ck", steps=200, batch_size=16, width=8)["module"].net
    held = _face_set("synth_a", 99, 12)
    rng = np.random.default_rng(5)
    cfg = OmegaConf.create({"occlusion": 1.0, **STILL})
    pairs = (_upright(held, k, rng, cfg) for k in range(len(held)))
    crops, exact, hull = (np.stack(a) for a in zip(*pairs))
    exact, hull = exact > 127, hull > 127
    found = segment(net, crops) > 127
    covered = hull & ~exact
    left_out = (covered & ~found).sum() / covered.sum()
    kept = (exact & found).sum() / exact.sum()
    assert left_out > 0.5 and kept > 0.85, (left_out, kept)


def test_generate_takes_the_segmenters_masks_for_the_occlusion_source():
    from pipeline.train.models.swap import build_model

    cfg = smoke_cfg()
    model = build_model(cfg.model, 2)
    crops = np.random.default_rng(0).integers(0, 255, (3, 64, 64, 3), np.uint8)
    seen = np.full((3, 64, 64), 7, np.uint8)
    swapper = Swapper(model, 1, "fp32", own=0, occlusion=lambda c: seen[: len(c)])
    faces, masks, own = swapper(crops)
    assert swapper.sees_occluders and swapper.own is None  # the decoder's is not drawn
    assert np.array_equal(own, seen) and faces.shape == (3, 64, 64, 3)
    assert Swapper(model, 1, "fp32")(crops)[2] is None
