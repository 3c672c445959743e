"""segment stage: ``python -m pipeline.segment`` (run by ``dvc repro segment``)."""

from pipeline.errors import run_entry_point
from pipeline.segment.stage import main

if __name__ == "__main__":
    run_entry_point("segment", main)
