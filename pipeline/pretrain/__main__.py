"""pretrain stage: ``python -m pipeline.pretrain`` (run by ``dvc repro pretrain``)."""

from pipeline.errors import run_entry_point
from pipeline.pretrain.stage import main

if __name__ == "__main__":
    run_entry_point("pretrain", main)
