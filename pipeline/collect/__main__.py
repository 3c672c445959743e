"""collect stage: ``python -m pipeline.collect`` (run by ``dvc repro collect``)."""

from pipeline.collect.stage import main
from pipeline.errors import run_entry_point

if __name__ == "__main__":
    run_entry_point("collect", main)
