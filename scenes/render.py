"""Synthetic camera scenes, deterministic from a seed: a room, drawn faces, an ID-1 card,
a QR code, and the lighting faults the checks look for.

There is no camera on a build machine, so the tests and benchmarks draw what one would film.
Faces are drawn (hair, skin oval, brows, eyes, nose shadow, mouth) with the dark eye band
above bright cheeks that OpenCV's frontal-face Haar cascade keys on; the face tests prove the
detector finds them. No image of a real person is involved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt
import segno

from kiosk.base.frames import BgrFrame

ID1_ASPECT = 85.60 / 53.98

_SKIN_TONES = ((150, 170, 205), (120, 150, 190), (95, 120, 160), (170, 190, 225))
_HAIR_TONES = ((35, 40, 50), (40, 60, 90), (60, 70, 80), (25, 25, 30))


@dataclass(frozen=True)
class FaceSpec:
    """A face centred at (cx, cy), in fractions of the frame, `height` a fraction of its height."""

    cx: float = 0.5
    cy: float = 0.45
    height: float = 0.42
    shade: float = 1.0  # multiplies the face's brightness (a face in shadow < 1)
    side_shadow: float = 0.0  # 0..1: how much darker the right half of the face is


@dataclass(frozen=True)
class CardSpec:
    """An ID-1 card; `width` is the fraction of the frame width its long side spans."""

    cx: float = 0.5
    cy: float = 0.5
    width: float = 0.55
    roll_deg: float = 0.0  # in-plane rotation
    yaw_deg: float = 0.0  # turned about the vertical axis (perspective)
    pitch_deg: float = 0.0  # tipped about the horizontal axis (perspective)
    glare: float = 0.0  # radius of a saturated glare spot, as a fraction of the card width
    glare_at: tuple[float, float] = (0.6, 0.4)  # where on the card, in card fractions


@dataclass(frozen=True)
class QrSpec:
    payload: str
    side: float = 0.3  # fraction of the frame height the code (with quiet zone) spans
    cx: float = 0.5
    cy: float = 0.5
    roll_deg: float = 0.0
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0


@dataclass(frozen=True)
class SceneSpec:
    seed: int = 0
    faces: tuple[FaceSpec, ...] = (FaceSpec(),)
    card: CardSpec | None = None
    qr: QrSpec | None = None
    brightness: float = 1.0  # multiplies the whole picture
    backlight: bool = False  # a bright window right behind the subject
    side_light: float = 0.0  # -1..1: one side of the scene brighter than the other
    blur: float = 0.0  # Gaussian sigma in pixels at 1280×720, applied last but noise
    noise: float = 0.0  # std of Gaussian sensor noise, in grey levels
    clutter: int = 0  # how many framed pictures, posters and cables hang on the wall behind
    extra: dict[str, float] = field(default_factory=dict, compare=False, hash=False)


def render_scene(spec: SceneSpec, size: tuple[int, int] = (1280, 720)) -> BgrFrame:
    """Draw the scene `spec` describes as a `size` = (width, height) BGR frame."""
    width, height = size
    if width < 64 or height < 48:
        raise ValueError(f"expected a frame of at least 64×48, got {width}×{height}")
    rng = np.random.default_rng(spec.seed)
    img = _room(spec.seed, width, height).copy()
    scale = height / 720.0
    if spec.backlight:
        _window(img, spec.faces)
    if spec.clutter:
        _clutter(img, spec.seed, spec.clutter)
    for i, face in enumerate(spec.faces):
        _draw_face(img, face, rng, spec.seed + i, dim=spec.backlight)
    if spec.card is not None:
        _paste_card(img, spec.card, spec.seed)
    if spec.qr is not None:
        _paste_qr(img, spec.qr)
    out = img.astype(np.float32)
    if spec.side_light:
        ramp = np.linspace(1.0 + spec.side_light * 0.6, 1.0 - spec.side_light * 0.6, width)
        out *= ramp.astype(np.float32)[None, :, None]
    if spec.brightness != 1.0:
        out *= spec.brightness
        if spec.brightness > 1.0:
            out += (spec.brightness - 1.0) * 90.0
    if spec.blur > 0:
        out = np.asarray(cv2.GaussianBlur(out, (0, 0), spec.blur * scale), dtype=np.float32)
    if spec.noise > 0:
        out += rng.normal(0.0, spec.noise, out.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def moving(t: float, size: tuple[int, int] = (640, 480), seed: int = 7) -> BgrFrame:
    """A calm synthetic camera picture at time `t` seconds: one face, gently swaying."""
    face = FaceSpec(
        cx=0.5 + 0.04 * math.sin(t * 0.8),
        cy=0.46 + 0.015 * math.sin(t * 1.3),
        height=0.46 + 0.02 * math.sin(t * 0.5),
    )
    return render_scene(SceneSpec(seed=seed, faces=(face,), noise=1.5), size)


@lru_cache(maxsize=8)
def _room(seed: int, width: int, height: int) -> npt.NDArray[np.uint8]:
    """A plain consultation room: wall, floor, a door and a shelf, slightly out of focus."""
    rng = np.random.default_rng(seed + 1000)
    wall = np.array(rng.integers(110, 170, 3), dtype=np.float32)
    y = np.linspace(0.85, 1.1, height, dtype=np.float32)[:, None, None]
    img = (np.ones((height, width, 3), np.float32) * wall) * y
    floor_y = int(height * rng.uniform(0.78, 0.88))
    img[floor_y:] = np.array(rng.integers(60, 100, 3), dtype=np.float32)
    s = height / 720.0
    door_x = int(width * rng.choice([0.05, 0.8]))
    cv2.rectangle(
        img,
        (door_x, int(floor_y - 560 * s)),
        (door_x + int(200 * s), floor_y),
        [float(v) for v in rng.integers(70, 130, 3)],
        -1,
    )
    shelf_y = int(height * rng.uniform(0.15, 0.3))
    shelf_x = int(width * rng.uniform(0.55, 0.7))
    cv2.rectangle(
        img,
        (shelf_x, shelf_y),
        (min(width - 1, shelf_x + int(380 * s)), shelf_y + int(18 * s)),
        [float(v) for v in rng.integers(40, 90, 3)],
        -1,
    )
    blurred = np.asarray(cv2.GaussianBlur(img, (0, 0), 4.0 * s), dtype=np.float32)
    out: npt.NDArray[np.uint8] = np.clip(blurred, 0, 255).astype(np.uint8)
    out.setflags(write=False)
    return out


def _clutter(img: BgrFrame, seed: int, count: int) -> None:
    """Hard-edged things on the wall: framed pictures, posters, cables, a row of books."""
    rng = np.random.default_rng(seed + 3000)
    h, w = img.shape[:2]
    for _ in range(count):
        kind = int(rng.integers(0, 3))
        colour = [float(v) for v in rng.integers(20, 235, 3)]
        x, y = int(rng.uniform(0.0, 0.9) * w), int(rng.uniform(0.0, 0.85) * h)
        if kind == 0:  # a framed picture or poster
            bw, bh = int(rng.uniform(0.08, 0.3) * w), int(rng.uniform(0.08, 0.35) * h)
            cv2.rectangle(img, (x, y), (x + bw, y + bh), colour, -1)
            frame_colour = [float(v) for v in rng.integers(10, 80, 3)]
            cv2.rectangle(img, (x, y), (x + bw, y + bh), frame_colour, max(2, h // 120))
        elif kind == 1:  # a cable or a picture rail
            angle = rng.uniform(-0.3, 0.3) + (math.pi / 2 if rng.random() < 0.4 else 0.0)
            length = rng.uniform(0.3, 0.9) * w
            x1, y1 = int(x + length * math.cos(angle)), int(y + length * math.sin(angle))
            cv2.line(img, (x, y), (x1, y1), colour, max(2, h // 180), cv2.LINE_AA)
        else:  # a row of book spines
            spine_h = int(rng.uniform(0.1, 0.2) * h)
            for _k in range(int(rng.integers(4, 12))):
                spine_w = int(rng.uniform(0.01, 0.03) * w)
                spine = [float(v) for v in rng.integers(20, 235, 3)]
                cv2.rectangle(img, (x, y), (x + spine_w, y + spine_h), spine, -1)
                x += spine_w


def _window(img: BgrFrame, faces: tuple[FaceSpec, ...]) -> None:
    h, w = img.shape[:2]
    cx = faces[0].cx if faces else 0.5
    x0, x1 = int(w * max(0.0, cx - 0.3)), int(w * min(1.0, cx + 0.3))
    cv2.rectangle(img, (x0, 0), (x1, int(h * 0.85)), (250, 252, 253), -1)
    cv2.rectangle(
        img, ((x0 + x1) // 2 - 4, 0), ((x0 + x1) // 2 + 4, int(h * 0.85)), (90, 90, 90), -1
    )


def _shade(color: tuple[int, int, int], k: float) -> tuple[int, int, int]:
    return (min(255, int(color[0] * k)), min(255, int(color[1] * k)), min(255, int(color[2] * k)))


def _draw_face(
    img: BgrFrame, face: FaceSpec, rng: np.random.Generator, seed: int, dim: bool
) -> None:
    h_img, w_img = img.shape[:2]
    k = face.shade * (0.35 if dim else 1.0)
    skin = _shade(_SKIN_TONES[seed % len(_SKIN_TONES)], k)
    hair = _shade(_HAIR_TONES[seed % len(_HAIR_TONES)], max(k, 0.5))
    cx, cy = int(face.cx * w_img), int(face.cy * h_img)
    h = max(8, int(face.height * h_img))
    w = int(h * 0.78)
    aa = cv2.LINE_AA
    # shoulders, then hair behind the head
    cv2.ellipse(img, (cx, cy + int(h * 1.05)), (int(w * 1.25), int(h * 0.55)), 0, 180, 360,
                _shade((90, 70, 60), k), -1, aa)  # fmt: skip
    cv2.ellipse(
        img, (cx, cy - int(h * 0.08)), (int(w * 0.56), int(h * 0.56)), 0, 0, 360, hair, -1, aa
    )
    cv2.ellipse(img, (cx, cy), (w // 2, h // 2), 0, 0, 360, skin, -1, aa)
    ey, ex = cy - int(h * 0.08), int(w * 0.2)
    brow = _shade((50, 55, 70), max(k, 0.5))
    for s in (-1, 1):
        x = cx + s * ex
        cv2.ellipse(img, (x, ey - int(h * 0.09)), (int(w * 0.13), int(h * 0.025)), 0, 180, 360,
                    brow, max(2, h // 30), aa)  # fmt: skip
        cv2.ellipse(img, (x, ey), (int(w * 0.11), int(h * 0.045)), 0, 0, 360,
                    _shade((235, 235, 235), k), -1, aa)  # fmt: skip
        cv2.circle(img, (x, ey), max(1, int(h * 0.035)), (40, 40, 40), -1, aa)
    nose = np.array(
        [[cx, ey + int(h * 0.02)], [cx - int(w * 0.07), cy + int(h * 0.14)],
         [cx + int(w * 0.07), cy + int(h * 0.14)]],
        dtype=np.int32,
    )  # fmt: skip
    cv2.fillConvexPoly(img, nose, _shade(skin, 0.85), aa)
    cv2.ellipse(img, (cx, cy + int(h * 0.27)), (int(w * 0.18), int(h * 0.05)), 0, 0, 360,
                _shade((70, 70, 150), k), -1, aa)  # fmt: skip
    if face.side_shadow > 0:
        x0, x1 = max(0, cx), min(w_img, cx + w // 2 + 2)
        y0, y1 = max(0, cy - h // 2), min(h_img, cy + h // 2)
        region = img[y0:y1, x0:x1].astype(np.float32) * (1.0 - face.side_shadow)
        img[y0:y1, x0:x1] = region.astype(np.uint8)
    del rng


def _projected_quad(
    cx: float, cy: float, w: float, h: float, roll: float, yaw: float, pitch: float
) -> npt.NDArray[np.float32]:
    """Corners (TL, TR, BR, BL) of a w×h rectangle turned in 3-D and seen by a pinhole camera."""
    corners = np.array(
        [[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]],
        dtype=np.float64,
    )
    r, y, p = math.radians(roll), math.radians(yaw), math.radians(pitch)
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    pts = corners @ (rz @ ry @ rx).T
    focal = 2.5 * max(w, h)  # a normal lens, the object about 2.5 widths away
    z = focal + pts[:, 2]
    out = np.stack([cx + pts[:, 0] * focal / z, cy + pts[:, 1] * focal / z], axis=1)
    return out.astype(np.float32)


def _composite(img: BgrFrame, texture: BgrFrame, quad: npt.NDArray[np.float32]) -> None:
    th, tw = texture.shape[:2]
    src = np.array([[0, 0], [tw - 1, 0], [tw - 1, th - 1], [0, th - 1]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, quad)
    h, w = img.shape[:2]
    warped = cv2.warpPerspective(texture, m, (w, h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((th, tw), 255, np.uint8), m, (w, h), flags=cv2.INTER_LINEAR)
    alpha = mask.astype(np.float32)[:, :, None] / 255.0
    img[:] = (img * (1.0 - alpha) + warped * alpha).astype(np.uint8)


def card_texture(seed: int, width: int = 856) -> BgrFrame:
    """The face of a made-up ID-1 card: colour band, photo box, text lines."""
    rng = np.random.default_rng(seed + 2000)
    height = round(width / ID1_ASPECT)
    base = [float(v) for v in rng.integers(200, 240, 3)]
    tex = np.empty((height, width, 3), np.uint8)
    tex[:] = base
    u = width / 856
    band = [float(v) for v in rng.integers(80, 170, 3)]
    cv2.rectangle(tex, (int(24 * u), int(20 * u)), (width - int(24 * u), int(90 * u)), band, -1)
    cv2.rectangle(
        tex, (int(40 * u), int(130 * u)), (int(260 * u), int(420 * u)), (150, 150, 160), -1
    )
    cv2.ellipse(
        tex,
        (int(150 * u), int(240 * u)),
        (int(55 * u), int(70 * u)),
        0,
        0,
        360,
        (100, 110, 130),
        -1,
    )
    for i in range(6):
        y = int((150 + 45 * i) * u)
        length = int(rng.integers(200, 480) * u)
        cv2.line(
            tex, (int(300 * u), y), (int(300 * u) + length, y), (60, 60, 60), max(1, int(10 * u))
        )
    return tex


def card_corners(card: CardSpec, size: tuple[int, int] = (1280, 720)) -> npt.NDArray[np.float32]:
    """Where the card's corners (TL, TR, BR, BL) land in a `size` = (width, height) frame;
    they may lie outside it."""
    w, h = size
    cw = card.width * w
    return _projected_quad(
        card.cx * w, card.cy * h, cw, cw / ID1_ASPECT, card.roll_deg, card.yaw_deg, card.pitch_deg
    )


def card_glare_share(card: CardSpec, seed: int) -> float:
    """The share of the card's face the glare spot saturates (V >= 250, S <= 40), before
    camera blur and noise."""
    face = _card_face(card, seed, width=428)
    hsv = cv2.cvtColor(face, cv2.COLOR_BGR2HSV)
    saturated = (hsv[:, :, 2] >= 250) & (hsv[:, :, 1] <= 40)
    return float(np.count_nonzero(saturated)) / float(saturated.size)


def _paste_card(img: BgrFrame, card: CardSpec, seed: int) -> None:
    h, w = img.shape[:2]
    _composite(img, _card_face(card, seed), card_corners(card, (w, h)))


def _card_face(card: CardSpec, seed: int, width: int = 856) -> BgrFrame:
    tex = card_texture(seed, width)
    if card.glare > 0:
        th, tw = tex.shape[:2]
        gx, gy = int(card.glare_at[0] * tw), int(card.glare_at[1] * th)
        radius = card.glare * tw
        yy, xx = np.mgrid[0:th, 0:tw]
        d = np.sqrt((xx - gx) ** 2 + (yy - gy) ** 2) / radius
        boost = np.clip(1.6 - d, 0.0, 1.0)[:, :, None]
        tex = np.clip(tex * (1 - boost) + 255 * boost, 0, 255).astype(np.uint8)
    return tex


def qr_image(payload: str, border: int = 4) -> npt.NDArray[np.uint8]:
    """The payload as a QR code, one pixel per module, quiet zone included (grey, 0/255)."""
    code = segno.make(payload, micro=False, error="m")
    matrix = np.array(code.matrix, dtype=np.uint8)
    matrix = np.pad(matrix, border)
    return np.where(matrix == 1, 0, 255).astype(np.uint8)


def qr_corners(qr: QrSpec, size: tuple[int, int] = (1280, 720)) -> npt.NDArray[np.float32]:
    """Where the code's corners (TL, TR, BR, BL, quiet zone included) land in a `size` =
    (width, height) frame."""
    w, h = size
    side = qr.side * h
    return _projected_quad(qr.cx * w, qr.cy * h, side, side, qr.roll_deg, qr.yaw_deg, qr.pitch_deg)


def _paste_qr(img: BgrFrame, qr: QrSpec) -> None:
    h, w = img.shape[:2]
    side = qr.side * h
    modules = qr_image(qr.payload)
    px = max(1, math.ceil(side * 1.5 / modules.shape[0]))
    tex = cv2.resize(modules, None, fx=px, fy=px, interpolation=cv2.INTER_NEAREST)
    tex_bgr = np.asarray(cv2.cvtColor(tex, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    _composite(img, tex_bgr, qr_corners(qr, (w, h)))
