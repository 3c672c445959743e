"""evaluate stages: ``python -m pipeline.evaluate [evaluators]`` (run by dvc repro)."""

from pipeline.errors import run_entry_point
from pipeline.evaluate.stage import main

if __name__ == "__main__":
    run_entry_point("evaluate", main)
