"""refine stage: ``python -m pipeline.refine`` (run by ``dvc repro refine``)."""

from pipeline.errors import run_entry_point
from pipeline.refine.stage import main

if __name__ == "__main__":
    run_entry_point("refine", main)
