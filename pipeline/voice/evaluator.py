"""The voice evaluator: a speaker classifier over a gallery of synthetic speakers, the
voice counterpart of the face side's identity network.

The gallery is ``voice.gallery_speakers`` synthetic voices the conversion never trains
on, plus the swap identities' own voices. Every speaker reads the same sentences (drawn
from a seed no other part uses); the last ``voice.test_sentences`` of them are held out,
and the classifier's accuracy on those is the floor of every retrieval figure built on
it. It reads frames of WORLD features: the mel envelope, log F0 and aperiodicity, with
two frames of context; an utterance is named by the mean log-probability of its voiced
frames.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm import tqdm

from pipeline.voice import speakers, world
from pipeline.voice.model import windows
from pipeline.voice.sentences import sentences

CONTEXT = 2
_GALLERY_TEXT_SEED = 10**5  # gallery speakers read sentences(gallery_seed + this, ...)
_TEST_TEXT_SEED = 2 * 10**5  # A's held-out sentences converted in evaluate


def frame_features(f: world.Features) -> np.ndarray:
    """(T, bins + 3): envelope, log F0 (0 unvoiced), voiced flag, aperiodicity."""
    voiced = f.f0 > 0
    lf0 = np.where(voiced, np.log(np.maximum(f.f0, 1.0)), 0.0)
    return np.concatenate(
        [f.envelope, lf0[:, None], voiced[:, None], f.aperiodicity[:, :1]], 1
    ).astype(np.float32)


class SpeakerNet(nn.Module):
    def __init__(self, speakers: int, width: int = 256):
        super().__init__()
        dims = (world.MEL_BINS + 3) * (2 * CONTEXT + 1)
        self.net = nn.Sequential(
            nn.Linear(dims, width),
            nn.GELU(),
            nn.Linear(width, width),
            nn.GELU(),
            nn.Linear(width, speakers),
        )
        self.register_buffer("mean", torch.zeros(world.MEL_BINS + 3))
        self.register_buffer("std", torch.ones(world.MEL_BINS + 3))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = windows((frames - self.mean) / self.std, CONTEXT)
        return self.net(x.flatten(1))

    @torch.no_grad()
    def scores(self, f: world.Features) -> np.ndarray:
        """Mean log-probability of each speaker over the utterance's voiced frames."""
        self.eval()
        logp = torch.log_softmax(self(torch.from_numpy(frame_features(f))), 1).numpy()
        voiced = f.f0 > 0
        return logp[voiced].mean(0) if voiced.any() else logp.mean(0)


def gallery(data: DictConfig, voice: DictConfig) -> list[tuple[str, int]]:
    """(name, voice seed) of every speaker the evaluator knows: the swap identities first."""
    own = [(i.name, int(i.voice)) for i in data.identities]
    return own + [(f"gallery_{k}", voice.gallery_seed + k) for k in range(voice.gallery_speakers)]


def render_gallery(people: list[tuple[str, int]], texts: list[str]) -> list[list[world.Features]]:
    """Each speaker's analysed reading of every text (one eSpeak reading per text)."""
    bases = [b for _, b in speakers.base_readings(texts)]
    out = []
    for name, seed in tqdm(people, desc="voice gallery", unit="speaker"):
        who = speakers.speaker_from_seed(name, seed)
        out.append([world.analyse(speakers.render(b, who)) for b in bases])
    return out


def train_evaluator(data: DictConfig, voice: DictConfig, seed: int) -> tuple:
    """The classifier and its report (held-out accuracy: the retrieval floor)."""
    people = gallery(data, voice)
    n_train, n_test = voice.gallery_sentences, voice.test_sentences
    texts = sentences(voice.gallery_seed + _GALLERY_TEXT_SEED, n_train + n_test)
    readings = render_gallery(people, texts)
    train_x = [np.concatenate([frame_features(f) for f in r[:n_train]]) for r in readings]
    net = SpeakerNet(len(people))
    allx = np.concatenate(train_x)
    net.mean.copy_(torch.from_numpy(allx.mean(0)))
    net.std.copy_(torch.from_numpy(allx.std(0) + 1e-3))
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=1e-2)
    # Windows are cut per speaker so no window spans two of them.
    ys = torch.cat([torch.full((len(x),), k) for k, x in enumerate(train_x)])
    wins = torch.cat(
        [windows((torch.from_numpy(x) - net.mean) / net.std, CONTEXT) for x in train_x]
    )
    for _ in range(voice.evaluator_steps):
        idx = torch.randint(0, len(ys), (512,), generator=g)
        loss = nn.functional.cross_entropy(net.net(wins[idx].flatten(1)), ys[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    correct = [
        int(np.argmax(net.scores(f)) == k) for k, r in enumerate(readings) for f in r[n_train:]
    ]
    report = {
        "speakers": [p[0] for p in people],
        "voice_seeds": [p[1] for p in people],
        "train_sentences": n_train,
        "held_out_sentences": n_test,
        "held_out_top1": round(float(np.mean(correct)), 4),
        "final_loss": round(float(loss.detach()), 4),
    }
    return net, report


def save_evaluator(net: SpeakerNet, report: dict, folder: Path) -> None:
    save_file(
        {k: v.contiguous() for k, v in net.state_dict().items()}, folder / "speaker.safetensors"
    )
    (folder / "speaker.json").write_text(json.dumps(report, indent=1) + "\n")


def load_evaluator(folder: Path) -> tuple[SpeakerNet, dict]:
    report = json.loads((folder / "speaker.json").read_text())
    net = SpeakerNet(len(report["speakers"]))
    net.load_state_dict(load_file(folder / "speaker.safetensors"))
    return net.eval(), report


def test_texts(voice: DictConfig) -> list[str]:
    """The performer's held-out sentences that evaluate converts (read by no one else)."""
    return sentences(voice.gallery_seed + _TEST_TEXT_SEED, voice.test_sentences)
