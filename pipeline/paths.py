"""Where the project's root is, also from inside DVC's queued-experiment copies."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """DVC_ROOT when DVC runs the stage (it names the real repository even for queued
    experiments, which run in a temporary copy); else the nearest folder up from the
    working directory that holds dvc.yaml; else the working directory."""
    env = os.environ.get("DVC_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for d in (here, *here.parents):
        if (d / "dvc.yaml").is_file():
            return d
    return here


# The files and folders the stages read and write, relative to the project root: the one
# table of them in the code. dvc.yaml states the same paths as each stage's deps and outs
# (tests/test_paths.py keeps the two equal).
FACES = Path("data/faces")
TARGETS = Path("data/targets")
PRETRAINED = Path("pretrained")
MODELS = Path("models")
MODEL_FILE = MODELS / "model.safetensors"
GENERATED = Path("outputs/generated")
FINAL = Path("outputs/final")
EVALUATORS = Path("evaluators")
REPORTS = Path("reports")
TRAIN_REPORT = REPORTS / "train.json"
TRAIN_LOSS = REPORTS / "train_loss.csv"
REFINE_REPORT = REPORTS / "refine.json"
EVALUATORS_REPORT = REPORTS / "evaluators.json"
METRICS = REPORTS / "metrics.json"
SEGMENTER = Path("segmenter")  # the occlusion segmenter (pipeline/segment)
SEGMENT_REPORT = REPORTS / "segment.json"
# The voice branch (pipeline/voice)
VOICES = Path("data/voices")
VOICE_MODEL = Path("voice_model")
VOICE_OUT = Path("outputs/voice")
VOICE_EVALUATOR = Path("evaluators_voice")
VOICE_TRAIN_REPORT = REPORTS / "voice_train.json"
VOICE_EVALUATOR_REPORT = REPORTS / "voice_evaluator.json"
PLOTS = REPORTS / "plots"
# Outside DVC's outputs on purpose: DVC deletes a stage's outputs before it re-runs it,
# which would throw away the checkpoint a killed run resumes from.
CHECKPOINTS = Path("checkpoints")
SEARCH_REPORT = REPORTS / "search.json"  # pipeline/search.py, not a stage
