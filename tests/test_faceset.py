"""Loading collected faces: deleted faces leave, broken files are skipped, empty is an error."""

from __future__ import annotations

import logging
import shutil

import pytest

from pipeline.collect.stage import collect_synthetic
from pipeline.errors import UserError
from pipeline.train.faceset import load_face_set, split_indices
from tests.helpers import smoke_cfg


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    out = tmp_path_factory.mktemp("faces")
    (out / "faces").mkdir()
    (out / "targets").mkdir()
    collect_synthetic(smoke_cfg().data, out / "faces", out / "targets")
    return out / "faces"


def test_deleting_a_png_removes_that_face(collected, tmp_path):
    folder = tmp_path / "synth_a"
    shutil.copytree(collected / "synth_a", folder)
    full = load_face_set(folder, 64)
    (folder / "00003.png").unlink()
    fewer = load_face_set(folder, 64)
    assert len(fewer) == len(full) - 1 and "00003.png" not in fewer.files


def test_broken_png_is_skipped_with_a_warning(collected, tmp_path, caplog):
    folder = tmp_path / "synth_a"
    shutil.copytree(collected / "synth_a", folder)
    (folder / "00004.png").write_bytes(b"not a png")
    with caplog.at_level(logging.WARNING):
        faces = load_face_set(folder, 64)
    assert "00004.png" not in faces.files
    assert "skipped 1 unreadable" in caplog.text


def test_faces_at_another_size_are_resized_with_their_landmarks(collected):
    small = load_face_set(collected / "synth_a", 32)
    full = load_face_set(collected / "synth_a", 64)
    assert small.faces.shape[1:] == (32, 32, 3)
    assert abs((small.landmarks + 0.5).mean() * 2 - (full.landmarks + 0.5).mean()) < 1e-3


def test_missing_or_empty_folder_is_a_user_error(collected, tmp_path):
    with pytest.raises(UserError, match="run the collect stage"):
        load_face_set(tmp_path / "nobody", 64)
    folder = tmp_path / "synth_a"
    shutil.copytree(collected / "synth_a", folder)
    for png in folder.glob("*.png"):
        png.unlink()
    with pytest.raises(UserError, match="no usable faces"):
        load_face_set(folder, 64)


def test_validation_split_holds_out_about_the_fraction():
    train, val = split_indices(1000, 0.05)
    assert len(val) == 50 and len(set(train) & set(val)) == 0
    assert len(split_indices(3, 0.05)[1]) == 1
