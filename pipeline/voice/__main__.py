"""The voice stages: ``python -m pipeline.voice voices|voice_train|voice_convert|voice_evaluators``
(run by ``dvc repro``)."""

import sys

from pipeline.errors import run_entry_point
from pipeline.voice.stage import STAGES

if __name__ == "__main__":
    stage = sys.argv[1] if len(sys.argv) > 1 else ""
    if stage not in STAGES:
        sys.exit(f"usage: python -m pipeline.voice {{{'|'.join(STAGES)}}}")
    run_entry_point(stage, STAGES[stage])
