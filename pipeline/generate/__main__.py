"""generate stage: ``python -m pipeline.generate`` (run by ``dvc repro generate``)."""

from pipeline.errors import run_entry_point
from pipeline.generate.stage import main

if __name__ == "__main__":
    run_entry_point("generate", main)
