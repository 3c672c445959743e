"""train stage: ``python -m pipeline.train`` (run by ``dvc repro train``)."""

from pipeline.errors import run_entry_point
from pipeline.train.stage import main

if __name__ == "__main__":
    run_entry_point("train", main)
