"""generate -> refine through DVC on the smoke preset: outputs, audio, marks, re-runs."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import yaml

from pipeline.config.read_log import RECORD_ENV
from pipeline.io.video import probe
from tests.helpers import commit_params, make_scratch_repo, mlflow_runs, run, unlisted_params

pytestmark = pytest.mark.slow  # DVC runs the whole smoke pipeline


@pytest.fixture(scope="module")
def swapped(tmp_path_factory):
    """A scratch repo after ``dvc repro`` of the whole smoke pipeline."""
    repo = make_scratch_repo(tmp_path_factory.mktemp("swap") / "repo")
    commit_params(repo, "experiment=smoke")
    reads = repo.parent / "params_read.jsonl"
    before = _tree(repo.parent)
    proc = run(["dvc", "repro"], repo, env={RECORD_ENV: str(reads)})
    (repo.parent / "tree_before.json").write_text(json.dumps(before))
    return repo, proc


def _tree(folder):
    """Every file under ``folder``: relative path -> (size, mtime in ns)."""
    return {
        str(p.relative_to(folder)): [p.stat().st_size, p.stat().st_mtime_ns]
        for p in folder.rglob("*")
        if p.is_file()
    }


# Written by design outside dvc.yaml's outs: DVC's own files (and git's index, which
# DVC's autostage updates), the MLflow store, the training checkpoint a killed run resumes
# from, the project's signing key.
BESIDE_OUTS = (
    "dvc.lock",
    ".dvc/",
    ".git/",
    "mlflow.db",
    "mlartifacts/",
    "checkpoints/",
    ".facepipe/",
)


def test_no_stage_writes_outside_its_outputs_and_the_mlflow_store(swapped):
    """Issue 14: whatever a stage writes is one of dvc.yaml's outs (or the few files
    above), never a sibling of the project or a folder a name pointed at."""
    repo, _ = swapped
    before = json.loads((repo.parent / "tree_before.json").read_text())
    after = _tree(repo.parent)
    written = sorted(p for p, stat in after.items() if before.get(p) != stat)
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    outs = [
        str(o if isinstance(o, str) else next(iter(o)))
        for s in stages.values()
        for key in ("outs", "metrics", "plots")
        for o in s.get(key, [])
    ]
    repo_prefix = f"{repo.name}/"
    stray = [
        p
        for p in written
        if p not in ("params_read.jsonl", "tree_before.json")
        and not (
            p.startswith(repo_prefix)
            and any(
                p[len(repo_prefix) :] == o or p[len(repo_prefix) :].startswith(f"{o}/")
                for o in outs
            )
        )
        and not any(p.startswith(repo_prefix + b) for b in BESIDE_OUTS)
    ]
    assert written and not stray, stray


def test_every_param_a_stage_reads_is_listed_in_dvc_yaml(swapped):
    """A key a stage reads but dvc.yaml does not list is a change 'dvc exp run -S' would
    not re-run (the real-footage test checks the folder source's stages the same way)."""
    repo, _ = swapped
    reads = repo.parent / "params_read.jsonl"
    ran = {json.loads(line)["cmd"] for line in reads.read_text().splitlines()}
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    assert ran == {s["cmd"] for s in stages.values() if not s.get("frozen")}
    assert unlisted_params(repo, reads) == {}


def test_final_video_has_sound_side_by_side_and_verifies(swapped):
    repo, proc = swapped
    final = repo / "outputs/final/a_to_b"
    video, sbs = final / "a_to_b.mp4", final / "a_to_b.side_by_side.mp4"
    streams = {s["type"]: s["codec"] for s in probe(video)["streams"]}
    assert streams == {"video": "h264", "audio": "aac"}
    assert {s["type"] for s in probe(sbs)["streams"]} == {"video", "audio"}
    src = probe(repo / "data/targets/a_to_b/video.mp4")
    assert abs(probe(video)["seconds"] - src["seconds"]) < 0.1

    parents, _ = mlflow_runs(repo)
    run_id = parents[0].info.run_id
    out = run(["python", "-m", "pipeline.verify", str(video)], repo)
    assert f"run tag {run_id[:12]}" in out.stdout
    assert "valid manifest" in out.stdout and "carry the same run" in out.stdout
    report = json.loads(run(["python", "-m", "pipeline.verify", "--json", str(sbs)], repo).stdout)
    assert report["c2pa"]["run_id"] == run_id and report["agree"] is True
    assert report["c2pa"]["source_type"].endswith("trainedAlgorithmicMedia")

    prov = json.loads((final / "provenance.json").read_text())
    assert prov["run_id"] == run_id and prov["ai_generated"] is True
    assert set(prov["files"]) == {"a_to_b.mp4", "a_to_b.side_by_side.mp4"}
    assert len(prov["model_sha256"]) == 64 and len(prov["params_sha256"]) == 64


def test_evaluate_writes_metrics_plots_and_the_parents_headline(swapped):
    repo, _ = swapped
    metrics = json.loads((repo / "reports/metrics.json").read_text())
    for key in (
        "identity_retrieval",
        "pose_error",
        "pose_error_floor",
        "expression_error",
        "ssim",
        "psnr",
        "flicker",
        "watermark_found",
        "watermark_bit_accuracy",
    ):
        assert isinstance(metrics[key], float), key
    assert metrics["watermark_found"] == 1.0 and metrics["watermark_bit_accuracy"] == 1.0
    # The occluded clip's target through the marks and encode alone keeps most occluder
    # pixels, not all (the encode moves thin edges).
    assert 0.5 < metrics["occluder_kept_unswapped"] <= 1.0, metrics
    assert "occluder_kept_unswapped_hair" in metrics["clips"]["a_to_b_occluded"]
    assert metrics["evaluators"]["identities"] == 6  # 2 swap identities + 4 gallery
    assert metrics["speed"]["refine_frames_per_second"] > 0
    rows = (repo / "reports/plots/quality_a_to_b.csv").read_text().splitlines()
    assert rows[0].startswith("frame,ssim,psnr") and len(rows) == 26
    parents, stages = mlflow_runs(repo)
    assert {"identity_retrieval", "ssim", "watermark_found"} <= set(parents[0].data.metrics)
    assert {r.data.tags["facepipe.stage"] for r in stages} >= {"evaluators", "evaluate"}
    shown = run(["dvc", "plots", "show", "--json"], repo)
    assert "quality_a_to_b.csv" in shown.stdout


def _audio_md5(path):
    import subprocess

    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path)]
    cmd += ["-map", "0:a", "-c", "copy", "-f", "md5", "-"]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def test_the_final_video_speaks_with_the_converted_voice(swapped):
    """Issue 13: the sound track is the voice stage's output, in sync (same length and
    the same samples up to the AAC encode), not the target's own."""
    from pipeline.io.audio import decode_audio, read_wav

    repo, _ = swapped
    final = repo / "outputs/final/a_to_b/a_to_b.mp4"
    assert _audio_md5(final) != _audio_md5(repo / "data/targets/a_to_b/video.mp4")
    converted, rate = read_wav(repo / "outputs/voice/a_to_b.wav")
    heard = decode_audio(final, rate)[: len(converted)]
    assert abs(len(decode_audio(final, rate)) - len(converted)) < 0.05 * rate
    assert np.corrcoef(heard, converted[: len(heard)])[0, 1] > 0.9


def test_without_voice_conversion_the_source_audio_is_copied_bit_for_bit(swapped, tmp_path):
    """``voice=none``: refine carries the target's own track, copied, not re-encoded."""
    from omegaconf import OmegaConf

    from pipeline.generate.targets import open_targets
    from pipeline.refine.refine import refine_target

    repo, _ = swapped
    cfg = OmegaConf.load(repo / "params.yaml")
    target = next(t for t in open_targets(repo / "data/targets") if t.name == "a_to_b")
    refine_target(
        target,
        repo / "outputs/generated/a_to_b",
        cfg.refine,
        tmp_path / "out",
        lambda frame, landmarks=None: frame,
    )
    assert _audio_md5(tmp_path / "out/a_to_b.mp4") == _audio_md5(target.media)


def test_stills_are_swapped_and_a_frame_without_a_face_passes_through(swapped):
    repo, _ = swapped
    meta = json.loads((repo / "outputs/generated/a_stills/meta.json").read_text())
    assert meta["no_face_frames"] == 1 and meta["faces"] == meta["frames"] - 1
    names = sorted(json.loads((repo / "data/targets/a_stills/faces.json").read_text()))
    final = repo / "outputs/final/a_stills"
    empty = names[-1]
    src = cv2.imread(str(repo / "data/targets/a_stills/images" / empty)).astype(int)
    out = cv2.imread(str(final / empty)).astype(int)
    top = slice(0, src.shape[0] // 2)  # above the label: only the watermark differs
    strength = yaml.safe_load((repo / "params.yaml").read_text())["provenance"][
        "watermark_strength"
    ]
    assert np.abs(out[top] - src[top]).max() <= round(strength)
    face = names[0]
    a = cv2.imread(str(repo / "data/targets/a_stills/images" / face)).astype(int)
    b = cv2.imread(str(final / face)).astype(int)
    assert np.abs(b[top] - a[top]).mean() > 1.0, "the face was not replaced"
    assert run(["python", "-m", "pipeline.verify", str(final / face)], repo).returncode == 0


def test_generate_keeps_the_aligned_target_crops_refine_colours_against(swapped):
    """Refine takes the target's crops from generate instead of warping every frame
    again: they are exactly the crops of the target's decoded frames."""
    from pipeline.faces.align import warp_face
    from pipeline.io.video import read_frames

    repo, _ = swapped
    gen = repo / "outputs/generated/a_to_b"
    crops = np.load(gen / "crops.npy")
    with np.load(gen / "track.npz") as track:
        matrices, has_face = track["matrices"], track["has_face"]
    frames = list(read_frames(repo / "data/targets/a_to_b/video.mp4"))
    assert len(frames) == len(crops) and has_face.any()
    for i, frame in enumerate(frames):
        if has_face[i]:
            assert np.array_equal(crops[i], warp_face(frame, matrices[i], crops.shape[1]))
        else:
            assert not crops[i].any()


def test_a_refine_only_change_reruns_refine_only(swapped):
    repo, _ = swapped
    commit_params(repo, "experiment=smoke", "refine.color=lct")
    proc = run(["dvc", "repro"], repo)
    ran = [line for line in proc.stdout.splitlines() if line.startswith("Running stage")]
    assert ran == ["Running stage 'refine':", "Running stage 'evaluate':"], proc.stdout
    report = json.loads((repo / "reports/refine.json").read_text())
    assert report["a_to_b"]["frames"] == 25


def test_a_model_of_another_resolution_is_refused(swapped, tmp_path):
    repo, _ = swapped
    params = (repo / "params.yaml").read_text()
    try:
        commit_params(repo, "experiment=smoke", "model.input_size=32")
        proc = run(["python", "-m", "pipeline.generate"], repo, check=False)
        assert proc.returncode == 2
        assert "model.input_size=64" in proc.stderr and "dvc repro train" in proc.stderr
        assert "Traceback" not in proc.stderr
    finally:
        (repo / "params.yaml").write_text(params)


def test_a_corrupt_target_video_is_a_clear_error_and_keeps_the_old_outputs(swapped):
    repo, _ = swapped
    video = repo / "data/targets/a_to_b/video.mp4"
    before = sorted(p.name for p in (repo / "outputs/generated").iterdir())
    saved = video.read_bytes()
    try:
        video.write_bytes(b"not a video at all")
        proc = run(["python", "-m", "pipeline.generate"], repo, check=False)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert "video.mp4" in proc.stderr and "cannot be decoded" in proc.stderr
        assert sorted(p.name for p in (repo / "outputs/generated").iterdir()) == before
    finally:
        video.write_bytes(saved)
