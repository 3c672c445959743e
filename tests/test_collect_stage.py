"""`dvc repro collect` in a fresh repository writes faces and target clips, then no-ops."""

from __future__ import annotations

import json

import cv2
import mlflow
import numpy as np
import pytest
import yaml

from pipeline.io.video import probe
from tests.helpers import commit_params, mlflow_runs, run


@pytest.mark.slow
def test_dvc_repro_collect_writes_outputs_and_then_reruns_nothing(scratch_repo):
    repo = scratch_repo
    params = commit_params(repo, "experiment=smoke")

    proc = run(["dvc", "repro", "collect"], repo)
    assert "Running stage 'collect'" in proc.stdout

    faces = repo / "data/faces"
    for ident in params["data"]["identities"]:
        folder = faces / ident["name"]
        index = json.loads((folder / "index.json").read_text())
        assert len(index["faces"]) == ident["frames"] == len(list(folder.glob("*.png")))
        first = index["faces"][0]
        crop = cv2.imread(str(folder / first["file"]))
        mask = cv2.imread(str(folder / first["mask"]), cv2.IMREAD_GRAYSCALE)
        size = params["data"]["crop_size"]
        assert crop.shape == (size, size, 3) and mask.shape == (size, size)
        assert np.array(first["landmarks"]).shape == (68, 2)
        assert json.loads((folder / "identity.json").read_text())["kind"] == "synthetic"

    clip = repo / "data/targets/a_to_b"
    for video in ("video.mp4", "ground_truth.mp4", "face_truth.mp4", "face_truth_source_skin.mp4"):
        assert {s["type"] for s in probe(clip / video)["streams"]} == {"video", "audio"}
    track = np.load(clip / "track.npz")
    meta = json.loads((clip / "meta.json").read_text())
    shape = (meta["frames"], 68, 2)
    assert track["landmarks"].shape == shape == track["truth_landmarks"].shape
    assert track["face_truth_landmarks"].shape == shape
    # The face-swap truth keeps the performer's head: its jaw line is the performer's.
    assert np.abs(track["face_truth_landmarks"][:, :17] - track["landmarks"][:, :17]).max() < 0.5
    assert track["performance"].shape[0] == meta["frames"]

    again = run(["dvc", "repro", "collect"], repo)
    assert "Running stage" not in again.stdout

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{repo / 'mlflow.db'}")
    stage = [r for r in mlflow_runs(repo)[1] if r.data.tags.get("facepipe.stage") == "collect"]
    assert len(stage) == 1
    assert stage[0].data.metrics["faces.synth_a"] == 40
    artifacts = [a.path for a in client.list_artifacts(stage[0].info.run_id, "collect")]
    assert "collect/faces_grid.png" in artifacts


@pytest.mark.slow
def test_dvc_exp_run_composes_conf_with_types_and_tags_the_parent_run(scratch_repo):
    repo = scratch_repo
    bad = run(["dvc", "exp", "run", "-S", "data.crop_size=abc"], repo, check=False)
    assert bad.returncode != 0 and "data.crop_size" in bad.stdout + bad.stderr

    run(
        [
            "dvc",
            "exp",
            "run",
            "-n",
            "tiny-crops",
            "-S",
            "experiment=smoke",
            "-S",
            "data.crop_size=48",
            # The collect stage alone: it composes, tags and logs like any (the whole
            # pipeline through `dvc exp run` is tests/test_sweep.py's).
            "collect",
        ],
        repo,
    )
    params = yaml.safe_load((repo / "params.yaml").read_text())
    assert params["data"]["crop_size"] == 48 and params["data"]["frame_size"] == 256
    first = json.loads((repo / "data/faces/synth_a/index.json").read_text())
    assert first["crop_size"] == 48

    parents, _ = mlflow_runs(repo)
    assert [p.data.tags["dvc.exp_name"] for p in parents] == ["tiny-crops"]
    assert parents[0].data.params["data.crop_size"] == "48"
