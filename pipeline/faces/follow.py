"""Follow every face through a clip, each on its own track, and pick the one to swap.

Detection (~25 ms a 640x480 frame) runs every ``redetect_every`` frames; between
detections each track's previous landmarks give the box its 68 landmarks are fitted in
(< 3 ms: dlib's predictor needs only a rough box). A detection is matched to a track by
position while that is unambiguous. Where it is not (two faces near each other, as when
people cross; a face that appears while a track is gone), the 128-d dlib embedding
decides: it costs ~75 ms a face, so it is computed only there, and once per track to
know who the track is. While two tracks are near each other detection runs on every
frame, and a track whose face is hidden behind another's is marked gone for that frame
instead of being fitted onto the face in front. A track missed by a detection keeps its
box for up to ``max_lost`` frames (detectors miss a face now and then), then is gone
until a detection of the same person (same embedding) brings it back.

The face to swap (``chosen``) is the track most like a reference embedding (the
target's ``reference`` photo), else the largest: the greatest sum of face sizes over the
frames it is seen in, so a face that is large and on screen throughout wins over one
that passes close to the camera.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from pipeline.faces.detect import Face, FaceAnalyzer, box_of

SAME_PERSON = 0.6  # dlib's embedding distance below which two faces are one person
NEAR = 1.5  # face sizes: tracks closer than this are "crowded" (detect every frame)
GATE = 0.5  # face sizes: how far a face may move between detections and match by position


@dataclass(eq=False)  # tracks are compared and hashed by identity
class Track:
    """One face through the clip: landmarks per frame it was seen in."""

    seen: dict[int, np.ndarray] = field(default_factory=dict)
    last: np.ndarray | None = None  # the latest landmarks, None while gone
    embedding: np.ndarray | None = None
    lost: int = 0  # consecutive detections that missed it
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # pixels a frame
    # The detector's box relative to the landmarks' (x0, y0, x1, y1 in landmark spans
    # from their centre): dlib's landmark model was trained on detector boxes and drifts
    # in a box of another shape.
    box_shape: np.ndarray | None = None

    @property
    def alive(self) -> bool:
        return self.last is not None

    def centre(self) -> np.ndarray:
        return self.last.mean(0) + self.velocity

    def predicted_box(self) -> tuple[int, int, int, int]:
        """Where the face should be in the next frame: the last box moved at the face's
        speed (a landmark fit in a box that lags a moving face lands short of it)."""
        if self.box_shape is None:
            return box_of(self.last + self.velocity)
        lo, hi = self.last.min(0), self.last.max(0)
        centre, span = (lo + hi) / 2 + self.velocity, float((hi - lo).max())
        x0, y0, x1, y1 = np.tile(centre, 2) + self.box_shape * span
        return int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1))

    def detected(self, t: int, face: Face) -> None:
        lo, hi = face.landmarks.min(0), face.landmarks.max(0)
        span = max(_span(face.landmarks), 1.0)
        self.box_shape = (np.array(face.box, float) - np.tile((lo + hi) / 2, 2)) / span
        self.lost = 0
        self.see(t, face.landmarks)

    def size(self) -> float:
        return _span(self.last)

    def see(self, t: int, landmarks: np.ndarray) -> None:
        before = self.seen.get(t - 1)
        if before is not None:
            step = landmarks.mean(0) - before.mean(0)
            self.velocity = 0.5 * self.velocity + 0.5 * step
        else:
            self.velocity = np.zeros(2)
        self.last = landmarks
        self.seen[t] = landmarks


class FaceTracker:
    def __init__(
        self,
        analyzer: FaceAnalyzer,
        redetect_every: int = 5,
        max_lost: int = 3,
        reference: np.ndarray | None = None,
    ):
        self.fa, self.every, self.max_lost = analyzer, max(1, redetect_every), max_lost
        self.reference = reference
        self.tracks: list[Track] = []
        self.t = 0
        self.counts = {"detected": 0, "tracked": 0, "kept_box": 0, "embedded": 0}

    def __call__(self, frame: np.ndarray) -> None:
        t, self.t = self.t, self.t + 1
        live = [tr for tr in self.tracks if tr.alive]
        if not live or any(tr.lost for tr in live) or t % self.every == 0 or _crowded(live):
            self._detect(frame, t, live)
            return
        self.counts["tracked"] += 1
        for tr in live:
            tr.see(t, self.fa.landmarks(frame, tr.predicted_box()))

    # -- detection frames ------------------------------------------------------------

    def _detect(self, frame: np.ndarray, t: int, live: list[Track]) -> None:
        faces = self.fa.detect(frame)
        self.counts["detected"] += bool(faces)
        alone = len(faces) == 1 and len(self.tracks) == 1 and self.reference is None
        if alone:  # one person in the clip so far: the face is theirs, wherever it is
            self.tracks[0].detected(t, faces[0])
            return
        matched = self._match(frame, faces, live)
        for tr in live:
            if tr in matched.values():
                continue
            # A miss beside another face is most likely that face passing in front.
            hidden = _behind(tr, faces) or _crowded([tr] + list(matched.values()))
            if tr.lost >= self.max_lost or hidden:
                tr.last = None  # gone, or hidden behind the face in front
                tr.lost = 0
                continue
            tr.lost += 1  # a missed detection: keep the box
            self.counts["kept_box"] += 1
            tr.see(t, self.fa.landmarks(frame, tr.predicted_box()))
        for j, face in enumerate(faces):
            tr = matched.get(j)
            if tr is None:
                tr = Track()
                self.tracks.append(tr)
            several = len(faces) > 1 or len(self.tracks) > 1 or self.reference is not None
            if tr.embedding is None and several:
                tr.embedding = self._embed(frame, face)
            tr.detected(t, face)

    def _match(self, frame: np.ndarray, faces: list[Face], live: list[Track]) -> dict[int, Track]:
        """Detection index -> track: by position where only one track is near, else by
        embedding (live tracks and gone ones alike)."""
        matched: dict[int, Track] = {}
        near = [[tr for tr in live if _distance(tr, f) < GATE] for f in faces]
        for j, cands in enumerate(near):
            others = [k for k, c in enumerate(near) if k != j and set(c) & set(cands)]
            if len(cands) == 1 and not others:
                matched[j] = cands[0]
        rest = [j for j in range(len(faces)) if j not in matched]
        known = [
            tr for tr in self.tracks if tr.embedding is not None and tr not in matched.values()
        ]
        if not rest or not known:
            return matched
        emb = {j: self._embed(frame, faces[j]) for j in rest}
        cost = np.array([[np.linalg.norm(emb[j] - tr.embedding) for tr in known] for j in rest])
        for r, c in zip(*linear_sum_assignment(cost)):
            if cost[r, c] < SAME_PERSON:
                matched[rest[r]] = known[c]
        return matched

    def _embed(self, frame: np.ndarray, face: Face) -> np.ndarray:
        if face.embedding is not None:
            return face.embedding
        self.counts["embedded"] += 1
        face.embedding = self.fa.embed(frame, face)
        return face.embedding

    # -- after the clip --------------------------------------------------------------

    def landmarks(self) -> np.ndarray:
        """(tracks, frames, 68, 2) float32, NaN where a track is not seen."""
        out = np.full((len(self.tracks), self.t, 68, 2), np.nan, np.float32)
        for k, tr in enumerate(self.tracks):
            for t, lm in tr.seen.items():
                out[k, t] = lm
        return out

    def chosen(self) -> tuple[int, str]:
        """The index of the track to swap, and why: 'reference', 'largest' or 'none'."""
        if not self.tracks:
            return -1, "none"
        if self.reference is not None:
            scored = [
                (np.linalg.norm(tr.embedding - self.reference), k)
                for k, tr in enumerate(self.tracks)
                if tr.embedding is not None
            ]
            if scored:
                return min(scored)[1], "reference"
        totals = [sum(_span(lm) for lm in tr.seen.values()) for tr in self.tracks]
        return int(np.argmax(totals)), "largest"


def _span(landmarks: np.ndarray) -> float:
    """Face size: the larger side of the landmarks' box (as ``Face.size``)."""
    return float(np.ptp(landmarks, axis=0).max())


def _distance(tr: Track, face: Face) -> float:
    """Centre distance in face sizes."""
    return float(np.linalg.norm(face.landmarks.mean(0) - tr.centre()) / max(tr.size(), 1.0))


def _crowded(live: list[Track]) -> bool:
    for i, a in enumerate(live):
        for b in live[i + 1 :]:
            gap = np.linalg.norm(a.centre() - b.centre())
            if gap < NEAR * max(a.size(), b.size()):
                return True
    return False


def _behind(tr: Track, faces: list[Face]) -> bool:
    """Whether a detected face covers a quarter of the track's box: the track's face is
    (partly) hidden behind it, and a landmark fit there would land on the face in front."""
    x0, y0, x1, y1 = tr.predicted_box()
    area = max((x1 - x0) * (y1 - y0), 1)
    for f in faces:
        w = min(x1, f.box[2]) - max(x0, f.box[0])
        h = min(y1, f.box[3]) - max(y0, f.box[1])
        if w > 0 and h > 0 and w * h > 0.25 * area:
            return True
    return False
