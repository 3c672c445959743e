"""Convert a clip's speech to another speaker's voice, streaming in chunks.

The audio is read, analysed, converted and synthesised ``chunk_seconds`` at a time, with
a quarter of a second of overlap on each side that is cross-faded away, so memory stays
flat however long the clip; the output is written to the WAV as it is made. A clip of
``PARALLEL_SECONDS`` or more is converted by one worker process per core (pyworld holds
the GIL, so threads would not help), each held to one BLAS thread; a shorter one in this
process. Workers are forked where the
system can: they start in milliseconds with the converter already in memory, where
spawned ones took about 0.35 s each, one after the other, while the clip waited.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import wave
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from pipeline.errors import UserError
from pipeline.io.atomic import atomic_outputs
from pipeline.io.audio import AudioStream, to_int16
from pipeline.voice import synthesis, world
from pipeline.voice.inference import Converter

OVERLAP = 0.25  # seconds read on each side of a chunk (WORLD's windows are < 50 ms)
SILENT = 10 ** (-60 / 20)  # a sound track whose peak is below -60 dBFS holds no speech
FADE = 0.05  # seconds of cross-fade where two chunks meet
MIN_CHUNK = 1.0  # seconds: shorter chunks would spend more on overlap than on speech
# Below this, one process converts faster than two on 2 cores (measured: 6 s of speech
# 0.19 s against 0.30 s; 16 s 0.44 against 0.44; 24 s 0.65 against 0.55).
PARALLEL_SECONDS = 16.0


def _read(pcm: AudioStream, path: Path, n: int) -> np.ndarray:
    try:
        return pcm.read(n)
    except ValueError as err:
        raise UserError(
            f"{path} has no sound track that can be read ({err}); re-encode it, or run "
            "with -S voice=none to keep the clip as it is."
        ) from None


def chunks(path: Path, chunk_seconds: float) -> Iterator[tuple[np.ndarray, int, int]]:
    """(samples with overlap, samples of lead-in, samples of the chunk itself) at
    ``world.RATE``, until the file's audio ends."""
    size, pad = int(round(chunk_seconds * world.RATE)), int(round(OVERLAP * world.RATE))
    pcm = AudioStream(path, world.RATE)
    try:
        buf, lead = np.zeros(0, np.float32), 0  # buf starts ``lead`` samples before the chunk
        while True:
            want = lead + size + pad - len(buf)
            if want > 0:
                buf = np.concatenate([buf, _read(pcm, path, want)])
            x = buf[: lead + size + pad]
            body = len(x) - lead
            if body <= 0:
                return
            yield x, lead, min(body, size)
            if body <= size:
                return
            buf, lead = buf[lead + size - pad :], pad
    finally:
        pcm.close()


_WORKER: tuple[Converter, int | None, int] | None = None


def _start_worker(converter: Converter, src: int | None, dst: int) -> None:
    global _WORKER
    _WORKER = (converter, src, dst)
    # The workers already fill the cores: one BLAS thread each (four threads fighting
    # over two cores took twice as long).
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def convert_speech(x: np.ndarray, converter: Converter, src: int | None, dst: int) -> np.ndarray:
    """Samples at ``world.RATE`` in, the same number of samples in speaker ``dst``'s voice
    out: WORLD analysis (without the aperiodicity, which the conversion does not read),
    the model, the batched vocoder."""
    features = converter.convert(world.analyse(x, aperiodicity=False), src, dst)
    y = synthesis.synthesise(features)
    return np.pad(y, (0, max(0, len(x) - len(y))))[: len(x)]


def convert_chunk(x: np.ndarray) -> np.ndarray:
    """``convert_speech`` in a worker process, with the converter it was started with."""
    return convert_speech(x, *_WORKER)


def plan(
    seconds: float, chunk_seconds: float, cores: int, parallel_from: float = PARALLEL_SECONDS
) -> tuple[int, float]:
    """(workers, chunk length in seconds): chunks of at most ``chunk_seconds``, as many
    as a multiple of the workers, so every core gets the same share of a clip; none
    under ``MIN_CHUNK`` (each carries half a second of overlap). A clip under
    ``parallel_from`` seconds is converted in this process: a forked worker's first chunk
    costs it about 0.1 s more than the same chunk here (its own pages to touch), which
    two cores win back only on longer clips."""
    if seconds <= 0:  # length unknown: stream it in chunks of the configured size
        return 1, chunk_seconds
    workers = 1 if seconds < parallel_from else max(1, min(cores, int(seconds // MIN_CHUNK)))
    count = workers * int(np.ceil(seconds / chunk_seconds / workers))
    return workers, max(seconds / count, MIN_CHUNK)


def _seconds(path: Path) -> float | None:
    from pipeline.io.video import probe

    return probe(path)["seconds"]


def convert_audio(
    converter: Converter,
    source: Path,
    out: Path,
    src: int | None,
    dst: int,
    chunk_seconds: float,
    workers: int | None = None,
) -> dict:
    """Write ``source``'s audio in speaker ``dst``'s voice to the WAV ``out`` (16 kHz);
    ``src`` is the speaker's index in the model, or None when unknown (a real clip: its
    own log-F0 statistics stand in). ``workers``: processes (default: one per core for a
    clip of ``PARALLEL_SECONDS`` or more, the clip cut so that each gets the same share).
    """
    start = time.perf_counter()
    seconds = _seconds(source) or 0.0
    if workers:
        workers, chunk_seconds = plan(seconds, chunk_seconds, workers, parallel_from=0.0)
    else:
        workers, chunk_seconds = plan(seconds, chunk_seconds, os.cpu_count() or 1)
    pool = None
    if workers > 1:
        methods = multiprocessing.get_all_start_methods()
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("fork" if "fork" in methods else "spawn"),
            initializer=_start_worker,
            initargs=(converter, src, dst),
        )
        pool.submit(int).result()  # start them now, before the first chunk is read
    try:
        stats = _stream(converter, source, out, src, dst, chunk_seconds, pool, workers)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    elapsed = time.perf_counter() - start
    return stats | {
        "real_time_factor": round(stats["seconds"] / max(elapsed, 1e-9), 1),
        "workers": workers,
    }


def _stream(converter, source, out, src, dst, chunk_seconds, pool, workers) -> dict:
    fade = int(FADE * world.RATE)
    tail = np.zeros(0, np.float32)
    written, loudest = 0, 0.0
    pending: deque = deque()

    def results() -> Iterator[tuple[np.ndarray, int, int]]:
        # At most two chunks per worker in flight: memory stays flat.
        nonlocal loudest
        for x, lead, core in chunks(source, chunk_seconds):
            loudest = max(loudest, float(np.abs(x).max(initial=0.0)))
            if pool is None:
                yield convert_speech(x, converter, src, dst), lead, core
                continue
            pending.append((pool.submit(convert_chunk, x), lead, core))
            if len(pending) >= 2 * workers:
                f, a, b = pending.popleft()
                yield f.result(), a, b
        while pending:
            f, a, b = pending.popleft()
            yield f.result(), a, b

    with atomic_outputs(out) as (tmp,), wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(world.RATE)
        for y, lead, core in results():
            piece = y[lead : lead + core + fade].copy()
            if len(tail):  # cross-fade into the previous chunk's overhang
                k = min(len(tail), len(piece))
                ramp = np.linspace(0, 1, k, dtype=np.float32)
                piece[:k] = piece[:k] * ramp + tail[:k] * (1 - ramp)
            body, tail = piece[:core], piece[core:]
            w.writeframes(to_int16(body).tobytes())
            written += len(body)
        if loudest < SILENT:
            raise UserError(
                f"the sound track of {source} is silent (peak {20 * np.log10(loudest + 1e-12):.0f}"
                " dBFS): there is no speech to convert; run with -S voice=none to keep it as it is."
            )
    return {"seconds": round(written / world.RATE, 3)}
