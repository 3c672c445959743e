"""Renderer speed: frames per second at 256x256 on one core, printed as JSON.

Pins the process to one CPU and OpenCV to one thread, renders a smooth performance of
the default identity, and reports the median of three timed passes.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time

import cv2

from pipeline.synth.background import render_background
from pipeline.synth.identity import sample_identity
from pipeline.synth.performance import frame_of, smooth_performance
from pipeline.synth.render import render_frame


def main(size: int = 256, frames: int = 300, passes: int = 3) -> dict:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cv2.setNumThreads(1)
    idt = sample_identity("synth_a", 11)
    perf = smooth_performance(5, frames)
    bg = render_background(1, size)
    todo = [frame_of(perf, i) for i in range(frames)]
    render_frame(idt, todo[0], bg)  # warm caches (identity atlas)
    rates = []
    for _ in range(passes):
        start = time.perf_counter()
        for p in todo:
            render_frame(idt, p, bg)
        rates.append(frames / (time.perf_counter() - start))
    return {
        "benchmark": "synthetic_renderer",
        "size": size,
        "cores": 1,
        "frames_per_pass": frames,
        "frames_per_second": round(statistics.median(rates), 1),
        "passes": [round(r, 1) for r in rates],
        "goal_frames_per_second": 200,
        "machine": platform.processor() or platform.machine(),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
