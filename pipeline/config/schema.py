"""Typed schemas of every config group: each key's type and default.

``conf/`` holds the Hydra tree; its group files extend these schemas, so composing with
Hydra (``dvc exp run -S``) and loading ``params.yaml`` (``load_params``) both reject an
unknown key or a wrong type before any work starts. Keep this module free of heavy
imports: DVC imports it (through ``hydra_plugins``) on every ``dvc exp run``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING


@dataclass
class IdentityConf:
    """One synthetic person and how many training faces to render of them."""

    name: str = MISSING
    seed: int = MISSING
    frames: int = 1000
    voice: int = 0  # the seed of their synthetic voice (pipeline/voice/speakers.py)


@dataclass
class TargetConf:
    """A target clip: ``identity`` performs; a perfect swap shows ``swap_to`` instead."""

    name: str = MISSING
    identity: str = MISSING
    swap_to: str = MISSING
    seconds: float = 6.0
    seed: int = 0
    # Drawn in front of the face through the clip, moving with it (pipeline/synth/
    # occluders.py: hand, microphone, glasses, hair), in the ground truths too.
    occluders: list[str] = field(default_factory=list)


@dataclass
class StillsConf:
    """A folder of target images: ``identity`` in random poses, the last image without a
    face (it must pass through unchanged); ``swap_to`` as the ground truth."""

    name: str = MISSING
    identity: str = MISSING
    swap_to: str = MISSING
    count: int = 6
    seed: int = 0


@dataclass
class SyntheticDataConf:
    source: str = "synthetic"
    frame_size: int = 256  # rendered frame side, pixels
    crop_size: int = 64  # aligned face crop side, pixels
    # Head units the crop spans: 1.9 is hairline to below the chin (faceswap's "head"
    # centring); 1.6 cuts the forehead and gives the eyes and mouth 19 % more pixels.
    coverage: float = 1.6
    scenes: int = 8  # backgrounds per identity, each a stretch of the training frames
    fps: float = 25.0
    video_crf: int = 18  # H.264 quality of the target and ground-truth clips
    preview_faces: int = 32  # crops shown in the MLflow grid per identity
    # Share of training faces with something in front (a random occluder kind); their
    # masks leave it out, so the mask head learns to (issue 12).
    occlusion: float = 0.25
    identities: list[IdentityConf] = field(
        default_factory=lambda: [
            IdentityConf(name="synth_a", seed=11, voice=2),
            IdentityConf(name="synth_b", seed=8, voice=11),
        ]
    )
    targets: list[TargetConf] = field(
        default_factory=lambda: [
            TargetConf(name="a_to_b", identity="synth_a", swap_to="synth_b", seed=5),
            # The occlusion clip: a hand, a microphone, glasses and hair in front of A.
            TargetConf(
                name="a_to_b_occluded",
                identity="synth_a",
                swap_to="synth_b",
                seconds=3.0,
                seed=6,
                occluders=["hand", "microphone", "glasses", "hair"],
            ),
        ]
    )
    stills: list[StillsConf] = field(
        default_factory=lambda: [
            StillsConf(name="a_stills", identity="synth_a", swap_to="synth_b", seed=7),
        ]
    )


@dataclass
class SourceIdentityConf:
    """A real person to collect: their footage and the record of their consent."""

    name: str = MISSING
    consent: str = MISSING  # a file that must exist and name the identity
    videos: list[str] = field(default_factory=list)  # video files
    images: list[str] = field(default_factory=list)  # folders of images
    # Recordings of their speech for the voice; when empty, the sound tracks of videos.
    audio: list[str] = field(default_factory=list)
    reference: str = ""  # optional photo of the person: picks them out of group frames


@dataclass
class FolderTargetConf:
    """A real target clip: ``video`` is swapped to ``swap_to``."""

    name: str = MISSING
    video: str = MISSING
    swap_to: str = MISSING
    reference: str = ""  # optional photo of the person to replace, for group shots


@dataclass
class FolderDataConf:
    """Real footage (pipeline/collect/folder.py). Paths are relative to the project root."""

    source: str = "folder"
    crop_size: int = 64
    coverage: float = 1.6  # head units the crop spans (see SyntheticDataConf)
    fps: float = 25.0  # for image folders turned into targets (videos keep their own)
    sample_fps: float = 5.0  # frames per second sampled from each video (a cap)
    min_face: int = 64  # pixels: faces smaller than this are rejected
    min_sharpness: float = 30.0  # variance of the Laplacian of the aligned crop
    max_yaw: float = 40.0  # degrees, estimated from the landmarks
    dedupe_bits: int = 4  # perceptual-hash distance at or under which faces are duplicates
    match_distance: float = 0.6  # dlib embedding distance: the same person below this
    redetect_every: int = 5  # target clips: full detection every k frames, tracking between
    identities: list[SourceIdentityConf] = field(default_factory=list)
    targets: list[FolderTargetConf] = field(default_factory=list)


@dataclass
class DetectorConf:
    """Face detector for real footage: ``kind`` names a plugin in pipeline/faces/detectors."""

    kind: str = "hog"  # hog | cnn
    upsample: int = 0  # times the image is doubled before detection (finds smaller faces)
    max_side: int = 640  # detection runs on frames downscaled to this longer side


@dataclass
class ModelConf:
    """A face-swap autoencoder (pipeline/train/models). Resolutions are derived:
    the encoder halves ``input_size`` once per entry of ``encoder_dims``; the decoder
    doubles once for the inter block and once per entry of ``decoder_dims``."""

    arch: str = "df"  # df: one decoder per identity; liae: shared decoder, inter_AB/inter_B
    input_size: int = 64
    encoder_dims: list[int] = field(default_factory=lambda: [32, 64, 128, 256])
    kernel_size: int = 3
    latent_dim: int = 256  # dense bottleneck width
    inter_dims: int = 256  # channels of the inter tensor before its upscale
    inter_upscale_dims: int = 96  # channels after the inter block's pixel-shuffle upscale
    decoder_dims: list[int] = field(default_factory=lambda: [96, 48, 24])


@dataclass
class AugmentConf:
    warp: bool = True  # faceswap's random warp: input warped, target not
    warp_scale: float = 0.035  # grid noise, as a share of the crop side
    flip: float = 0.5  # probability
    rotate: float = 10.0  # degrees, uniform +-
    zoom: float = 0.05  # uniform +- scale change
    shift: float = 0.05  # uniform +- share of the crop side
    lab_l: float = 0.12  # L* jitter, share of the range
    lab_ab: float = 0.06  # a*/b* jitter, share of the range


@dataclass
class TrainConf:
    batch_size: int = 16
    max_steps: int = 1500
    lr: float = 1.0e-3
    betas: list[float] = field(default_factory=lambda: [0.5, 0.999])
    weight_decay: float = 0.0
    schedule: str = "polish"  # constant | cosine | polish (after warmup; see polish_share)
    warmup_steps: int = 50
    # The last share of steps trains without random warp (DeepFaceLab and faceswap turn
    # warp off at the end); with schedule=polish the learning rate is constant before it
    # and decays within it, so a longer run passes through the same states as a shorter.
    # 0.6 on the default pair: SSIM 0.836 and eye SSIM 0.734 against 0.823 and 0.689 at
    # 0.2 (docs/architecture.md, "Polish share").
    polish_share: float = 0.6
    ema: float = 0.995  # > 0: decay of an exponential moving average of the weights, exported
    # A folder of starting weights (the pretrain stage's); "": from random weights.
    init: str = "pretrained"
    # Which of the model's parts (its top-level modules: encoder, inter, decoders for DF)
    # start from ``init``; the others start from random weights (faceswap loads only the
    # encoder of another model).
    init_parts: list[str] = field(default_factory=lambda: ["encoder", "inter", "decoders"])
    # Parts whose weights stay as they started (faceswap's --freeze-weights).
    freeze: list[str] = field(default_factory=list)
    grad_clip: float = 1.0  # max gradient norm; 0 disables
    loss: str = "l1"  # l1 | mse, the per-pixel term
    dssim_weight: float = 1.0
    mask_weight: float = 0.5  # predicted mask vs the landmark-hull mask
    eye_weight: float = 3.0  # priority multipliers inside eye and mouth regions
    mouth_weight: float = 2.0
    background_weight: float = 0.1  # loss weight outside the face mask
    gan_weight: float = 0.0  # > 0 adds a least-squares patch-GAN loss (pix2pix PatchGAN)
    gan_dims: list[int] = field(default_factory=lambda: [32, 64, 128])
    # > 0 (DF only): DeepFaceLab's "true face", a code discriminator the encoder must
    # leave guessing whose face it encoded (pipeline/train/losses.py: code_losses).
    true_face_weight: float = 0.01
    val_fraction: float = 0.05
    val_every: int = 200  # steps
    checkpoint_every: int = 100  # steps
    preview_every: int = 200  # steps
    preview_faces: int = 6
    num_workers: int = 0  # augmentation processes; 0 suits 2 CPU cores, raise on GPU machines
    augment: AugmentConf = field(default_factory=AugmentConf)


@dataclass
class TrainerConf:
    """Passed to ``pl.Trainer`` as they are: every key is one of its arguments."""

    accelerator: str = "cpu"  # cpu | gpu | auto
    devices: int = 1
    strategy: str = "auto"  # auto | ddp | ddp_spawn ...
    # auto: bf16-mixed on a GPU or a CPU with native bf16 (AVX512-BF16, AMX), else 32-true
    # (an AVX2-only CPU emulates bf16: 9x slower per step); see pipeline/precision.py
    precision: str = "auto"
    num_nodes: int = 1
    deterministic: bool = True


@dataclass
class SmoothingConf:
    """Temporal smoothing of the target's landmarks before alignment (faces/smoothing.py)."""

    method: str = "savgol"  # none | savgol (whole track) | one_euro (causal)
    window: int = 7  # savgol: frames, odd
    order: int = 2  # savgol: polynomial order
    min_cutoff: float = 2.0  # one_euro: Hz at rest
    beta: float = 0.1  # one_euro: cut-off rise with speed (per pixel/s)
    d_cutoff: float = 1.0  # one_euro: Hz of the speed estimate


@dataclass
class GenerateConf:
    """The swap itself: align target faces, encode, decode as the other identity."""

    batch_size: int = 32  # faces per forward pass
    precision: str = "auto"  # auto | bf16 | fp32 inference (auto: as trainer.precision)
    jitter: float = 0.0  # detector-like landmark noise, share of the face size (test aid)
    jitter_seed: int = 0
    smoothing: SmoothingConf = field(default_factory=SmoothingConf)
    crf: int = 23  # H.264 quality of the raw composite
    preset: str = "veryfast"  # x264 preset of the raw composite (inspection only)
    # What refine's occlusion mask source cuts out: segmenter (the segment stage's
    # network) | own_decoder (the mask the target person's own decoder draws)
    occlusion_mask: str = "segmenter"


@dataclass
class MaskConf:
    # occlusion (the predicted mask, cut crisply where generate.occlusion_mask does not
    # see the face, so what is in front stays in front) | predicted (the new identity's
    # decoder) | hull (landmarks) | both (hull and predicted)
    source: str = "occlusion"
    erode: float = 0.02  # share of the crop side; negative dilates
    blur: float = 0.08  # feathering, share of the crop side
    # occlusion: what covers the face is grown by this share of the crop side before it
    # is cut out, so its edge is kept too (0.03: 2 pixels of a 64-pixel crop)
    occluder_margin: float = 0.03


@dataclass
class ProvenanceConf:
    """Marks on every generated output (pipeline/provenance). The watermark and the C2PA
    manifest cannot be switched off; the visible label can."""

    label: bool = True  # the visible "synthetic" label
    label_text: str = "SYNTHETIC - AI-generated"
    # grey levels; lower is less visible and less robust
    watermark_strength: float = 4.0
    # grey levels on the swapped face itself, where it costs the swap's fidelity most
    watermark_face_strength: float = 1.0
    certificate: str = ""  # PEM chain (signer first); empty: the project's own key
    private_key: str = ""  # PEM private key of that certificate


@dataclass
class EncodeHDConf:
    """The final encode of frames of ``min_pixels`` or more. There ``veryfast`` at CRF 19
    keeps the face as ``medium`` at 20 does, in a file of the same size, and refine runs
    1.5x faster; on smaller frames the same trade loses some of the face
    (docs/architecture.md, "HD frames get their own encoding")."""

    min_pixels: int = 921600  # 1280x720's pixel count; frames of any shape this large
    crf: int = 19
    preset: str = "veryfast"


@dataclass
class RefineConf:
    """Post-processing of the generated faces, and the final encode."""

    color: str = "rct"  # none | rct (Lab mean/std) | hist (histogram matching) | lct
    color_smoothing: float = 0.8  # weight of earlier frames' colour statistics; 0: per frame
    # Where the colour statistics come from: skin (cheeks and nose below the eyes: bare
    # skin on every face) | face (the whole landmark hull, whose beard, brows and lips
    # pull the new face's contrast toward the old face's).
    color_region: str = "skin"
    mask: MaskConf = field(default_factory=MaskConf)
    blend: str = "alpha"  # alpha | poisson (OpenCV seamlessClone)
    sharpen: float = 0.3  # unsharp-mask amount; 0 turns it off
    sharpen_sigma: float = 1.0  # unsharp-mask radius, frame pixels
    # H.264 quality of the final video below refine.hd.min_pixels a frame; 20 keeps
    # occluders and the swap (docs/architecture.md)
    crf: int = 20
    preset: str = "medium"  # x264 preset of the final video, ditto
    hd: EncodeHDConf = field(default_factory=EncodeHDConf)  # the final encode of large frames
    side_by_side_height: int = 256  # panel height of original | swapped | ground truth
    before_after: int = 4  # frames logged to MLflow as before/after pairs
    image_format: str = "png"  # png | jpg, for image-folder targets


@dataclass
class EvaluateConf:
    """The evaluators (identity and performance networks trained on synthetic renders) and
    how the evaluate stage reads the outputs (pipeline/evaluate)."""

    gallery_identities: int = 50  # synthetic people the swap never trains on
    gallery_seed: int = 5000  # their identity seeds: gallery_seed + k
    gallery_frame_size: int = 256  # side of the gallery's rendered frames, pixels
    frames_per_identity: int = 40
    held_out: float = 0.2  # share of each identity's frames kept to measure the evaluators
    steps: int = 1200  # per network; ~2 minutes for both on 2 cores
    batch_size: int = 32
    lr: float = 3.0e-3
    width: int = 16  # channels of the first conv stage
    # Per-channel colour jitter of the identity network's training crops, so identity
    # rests on the inner face's features more than on skin tone, which colour transfer
    # takes from the target.
    identity_tint: float = 0.2
    # Gaussian blur (sigma, crop pixels) on half the identity network's training crops:
    # without it the network names people by pixel-level skin texture, and a sigma of
    # 0.7 px (less than H.264 or a resampling does) drops held-out top-1 from 0.995 to 0.58.
    identity_blur: float = 1.5
    # Gaussian pixel noise (std up to this many grey levels) on the identity network's
    # training crops: without it the same swapped faces read 0.23, 0.04 and 0.02 under
    # three runs' watermarks (+-3 levels, one pattern per run); with 8: 0.41, 0.29, 0.37.
    identity_noise: float = 8.0


@dataclass
class PretrainConf:
    """DeepFaceLab's pretrain mode: the autoencoder trained once on a pool of synthetic
    people, never the evaluators' gallery (pipeline/pretrain)."""

    identities: int = 48  # people in the pool
    seed: int = 20000  # their identity seeds: seed + k (far from gallery_seed's range)
    faces_per_identity: int = 64
    frame_size: int = 256  # side of the pool's rendered frames, whatever the swap's data
    steps: int = 6000
    batch_size: int = 16
    lr: float = 1.0e-3


@dataclass
class SegmentConf:
    """The occlusion segmenter (pipeline/segment): a small U-Net that marks the visible
    face in an aligned crop, trained on the collected faces with occluders drawn on them
    at random. generate.occlusion_mask=segmenter uses it for refine's occlusion mask."""

    width: int = 8  # channels at full resolution, doubling per level
    levels: int = 4  # resolutions: the crop, then halved levels - 1 times
    steps: int = 800
    batch_size: int = 32
    lr: float = 3.0e-3
    occlusion: float = 0.8  # share of training faces given an occluder in front
    # tracker-like jitter of each face, uniform in +-: degrees, zoom, shift (a share of
    # the crop side), as train.augment draws them
    rotate: float = 5.0
    zoom: float = 0.05
    shift: float = 0.025
    brightness: float = 0.2  # gain drawn from 1 +- brightness
    checkpoint_every: int = 200


@dataclass
class VoiceConf:
    """The audio half (pipeline/voice): synthetic speakers, voice conversion, its
    evaluator. ``kind: none`` leaves the target's own voice in the swapped video."""

    kind: str = "convert"  # convert | none
    sentences: int = 30  # sentences each speaker reads for training (~4 s each)
    sentence_seed: int = 300  # a speaker reads sentences(sentence_seed + voice seed)
    # The model: a shared encoder over a window of envelope frames, one decoder per
    # speaker; the encoder sees each speaker's frames through a random vocal-tract warp.
    context: int = 8  # frames each side of the converted one (10 ms each)
    width: int = 192
    bottleneck: int = 24
    warp: float = 0.16  # the random warp's tract factors: 1 +- warp
    tilt: float = 3.0  # and spectral tilts: +- dB per octave
    steps: int = 1500
    batch_size: int = 256
    lr: float = 2.0e-3
    checkpoint_every: int = 250
    chunk_seconds: float = 8.0  # conversion streams audio in chunks this long
    # Audio watermark strength (the run tag, as in the video mark)
    # The evaluator: a speaker classifier on a gallery the conversion never trains on.
    gallery_speakers: int = 8
    gallery_seed: int = 7000  # their voice seeds: gallery_seed + k
    gallery_sentences: int = 8  # per speaker, the evaluator's training speech
    evaluator_steps: int = 600  # the speaker classifier's training steps (batches of 512)
    test_sentences: int = 6  # held out per speaker: the evaluator's floor, and A's
    # sentences converted to B for retrieval, MCD, F0 RMSE and STOI
    # Real recordings (data=folder; pipeline/voice/recordings.py)
    vad_mode: int = 2  # WebRTC voice activity detector aggressiveness, 0 (least) to 3
    min_segment_seconds: float = 0.5  # shorter runs of speech are rejected
    max_segment_seconds: float = 8.0  # longer runs are cut into pieces this long
    min_loudness: float = -45.0  # LUFS: a quieter recording is refused
    loudness: float = -23.0  # LUFS every recording is normalised to (EBU R 128)
    quiet_segment_db: float = 20.0  # runs this far below the file's loudness are rejected
    min_speech_seconds: float = 10.0  # of speech per identity after trimming


@dataclass
class SqliteTrackingConf:
    backend: str = "sqlite"
    experiment: str = "facepipe"
    db: str = "mlflow.db"  # relative to the project root (DVC_ROOT inside queued runs)
    artifacts: str = "mlartifacts"  # likewise


@dataclass
class ServerTrackingConf:
    backend: str = "server"
    experiment: str = "facepipe"
    uri: str = "http://127.0.0.1:5000"


@dataclass
class Config:
    seed: int = 0
    data: Any = MISSING
    model: ModelConf = field(default_factory=ModelConf)
    train: TrainConf = field(default_factory=TrainConf)
    trainer: TrainerConf = field(default_factory=TrainerConf)
    generate: GenerateConf = field(default_factory=GenerateConf)
    refine: RefineConf = field(default_factory=RefineConf)
    provenance: ProvenanceConf = field(default_factory=ProvenanceConf)
    evaluate: EvaluateConf = field(default_factory=EvaluateConf)
    pretrain: PretrainConf = field(default_factory=PretrainConf)
    voice: VoiceConf = field(default_factory=VoiceConf)
    segment: SegmentConf = field(default_factory=SegmentConf)
    detector: Any = MISSING
    tracking: Any = MISSING


# Group -> discriminating key -> value -> schema. The discriminator tells ``load_params``
# which schema a params.yaml section must match.
GROUP_SCHEMAS: dict[str, tuple[str, dict[str, type]]] = {
    "data": ("source", {"synthetic": SyntheticDataConf, "folder": FolderDataConf}),
    "detector": ("kind", {"hog": DetectorConf, "cnn": DetectorConf}),
    "tracking": ("backend", {"sqlite": SqliteTrackingConf, "server": ServerTrackingConf}),
}


def register_configs() -> None:
    """Store the schemas in Hydra's ConfigStore (``conf/`` files name them in defaults)."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="config_schema", node=Config)
    plain = (
        ("model", ModelConf),
        ("train", TrainConf),
        ("trainer", TrainerConf),
        ("generate", GenerateConf),
        ("refine", RefineConf),
        ("provenance", ProvenanceConf),
        ("evaluate", EvaluateConf),
        ("pretrain", PretrainConf),
        ("voice", VoiceConf),
        ("segment", SegmentConf),
    )
    for group, node in plain:
        cs.store(group=group, name=f"{group}_schema", node=node)
    for group, (_, schemas) in GROUP_SCHEMAS.items():
        for choice, node in schemas.items():
            cs.store(group=group, name=f"{choice}_schema", node=node)
