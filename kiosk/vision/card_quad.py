"""Line-based search for an ID-1 card outline on a small grey frame.

Contours of an edge map merge as soon as the card's outline touches another edge (hair, a
shelf, the floor line), so the card is not looked for as a closed contour. Straight edge
segments are collected instead, the longest few become candidate lines, and every pair of
near-horizontal lines is combined with every pair of near-vertical ones (corners met once
per pair of lines and looked up); a candidate is kept when its shape is a card's and its
sides lie on edges, or on a colour step where a light card before light skin leaves the grey
edges broken. Grey edges rank the candidates. A side may also be the frame border, which is
how a card running off the frame is still seen; its other sides must then reach the border.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.base.frames import BgrFrame, GreyFrame

ID1_ASPECT = 85.60 / 53.98
MIN_ASPECT, MAX_ASPECT = 1.45, 1.72
MIN_SEGMENT_PX = 12.0  # shorter straight runs are text, texture or noise
MAX_LINES = 14  # per orientation, best covered first
MAX_TILT_DEG = 40.0  # a side further from the frame axes than this is not a card side
MAX_PAIR_DIFF_DEG = 16.0  # opposite sides under perspective are not quite parallel
MIN_AREA_SHARE = 0.045  # of the searched frame: a card a fifth of its width
MIN_SIDE_SUPPORT = 0.7  # share of a side's samples lying on an edge
MIN_CLIPPED_FACING = 0.38  # the card's side facing the border, of the frame's height or width
CLIPPED_SIDE_SUPPORT = 0.85  # stricter: the sides must run right up to the border
MIN_MEAN_SUPPORT = 0.8
SAMPLES_PER_SIDE = 24
STEP_OFFSET_PX = 2.0  # either side of a card side, where its colours are read
MIN_COLOUR_STEP = 14  # grey levels in the most different channel
END_SAMPLES = 6
END_REACH_PX = 8.0  # of the searched frame: the stretch next to the border that must be edge
MIN_END_SUPPORT = 0.8
Lines = npt.NDArray[np.float64]  # n × 3, a·x + b·y + c = 0 with a² + b² = 1
_NEXT = np.array([1, 2, 3, 0])  # corner k's successor round a quad; side k runs k → k+1
_ALONG_SIDE = np.linspace(0.06, 0.94, SAMPLES_PER_SIDE)  # where a side's samples are
_FROM_BORDER = np.linspace(1.0, END_REACH_PX, END_SAMPLES)  # pixels, where a reach is sampled


@dataclass(frozen=True)
class QuadHit:
    corners: npt.NDArray[np.float64]  # 4 × 2, TL, TR, BR, BL, in the searched frame's pixels
    clipped: bool  # one side is the frame border: the card runs off the frame
    support: float  # mean share of the real sides lying on edges


def edge_map(image: BgrFrame | GreyFrame) -> GreyFrame:
    """Canny edges; on colour, each pixel's strongest channel gradient counts."""
    blurred = cv2.GaussianBlur(image, (3, 3), 0)
    return np.asarray(cv2.Canny(blurred, 24, 72, L2gradient=True), dtype=np.uint8)


def segments(edges: GreyFrame) -> npt.NDArray[np.float64]:
    """Straight runs of the edge map as n × 4 (x0, y0, x1, y1), at least MIN_SEGMENT_PX long."""
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    polys = [
        cv2.approxPolyDP(c, 1.2, True).reshape(-1, 2)
        for c in contours
        if len(c) >= 2 * MIN_SEGMENT_PX
    ]
    if not polys:
        return np.zeros((0, 4))
    v = np.concatenate(polys).astype(np.float64)
    sizes = np.array([len(p) for p in polys])
    first = np.cumsum(sizes) - sizes
    following = np.arange(len(v)) + 1  # each vertex's successor, closing every polygon
    following[first + sizes - 1] = first
    ends = v[following]
    keep = np.hypot(*(ends - v).T) >= MIN_SEGMENT_PX
    return np.hstack([v[keep], ends[keep]])


@dataclass(frozen=True)
class _LineSet:
    """Lines as a·x + b·y + c = 0 (unit normal), with where along each its edges lie."""

    abc: Lines
    t_min: npt.NDArray[np.float64]  # extent of its segments along (b, -a)
    t_max: npt.NDArray[np.float64]
    cover: npt.NDArray[np.float64]  # how much of that extent is edge, in pixels
    border: npt.NDArray[np.bool_]  # the frame border, not an edge in the picture

    def __len__(self) -> int:
        return len(self.abc)


def _lines_of(segs: npt.NDArray[np.float64], w: int, h: int) -> tuple[_LineSet, _LineSet]:
    """Near-horizontal and near-vertical lines through the longest segments, near-collinear
    ones (the two sides of a thin edge, a side broken by a finger) folded into one; then the
    frame border."""
    d = segs[:, 2:] - segs[:, :2]
    length = np.hypot(d[:, 0], d[:, 1])
    theta = np.arctan2(d[:, 1], d[:, 0]) % math.pi
    # normals pointing down for near-horizontal lines and right for near-vertical ones
    a, b = -np.sin(theta), np.cos(theta)
    flip = (b < 0) | ((np.abs(b) < math.sqrt(0.5)) & (a < 0))
    a, b = np.where(flip, -a, a), np.where(flip, -b, b)
    mid = (segs[:, :2] + segs[:, 2:]) / 2
    c = -(a * mid[:, 0] + b * mid[:, 1])
    tilt = math.radians(MAX_TILT_DEG)
    is_h = np.minimum(theta, math.pi - theta) <= tilt
    # a side further from the frame axes than MAX_TILT_DEG is no card side: drop it early
    upright = is_h | (np.abs(theta - math.pi / 2) <= tilt)
    big = 1e6
    frame_sides = {
        True: [(0.0, 1.0, 0.0, -big, big, big, 1.0), (0.0, 1.0, 1.0 - h, -big, big, big, 1.0)],
        False: [(1.0, 0.0, 0.0, -big, big, big, 1.0), (1.0, 0.0, 1.0 - w, -big, big, big, 1.0)],
    }
    # longest first, over both kinds, as when they were grouped together
    rank = np.empty(len(segs), np.intp)
    rank[np.flatnonzero(upright)[np.argsort(-length[upright])]] = np.arange(upright.sum())
    out = []
    for side in (True, False):
        # Segments within 4 degrees of each other are of one kind, so each kind is grouped on
        # its own: two smaller square tables instead of one.
        sel = np.flatnonzero(upright & (is_h == side))
        sel = sel[np.argsort(rank[sel])]
        table = np.vstack(
            [_best_lines(segs[sel], length[sel], a[sel], b[sel], c[sel], mid[sel]),
             np.array(frame_sides[side])]
        )  # fmt: skip
        out.append(_LineSet(table[:, :3], table[:, 3], table[:, 4], table[:, 5], table[:, 6] > 0))
    return out[0], out[1]


def _best_lines(
    segs: npt.NDArray[np.float64],
    length: npt.NDArray[np.float64],
    a: npt.NDArray[np.float64],
    b: npt.NDArray[np.float64],
    c: npt.NDArray[np.float64],
    mid: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """The MAX_LINES best-covered lines through segments of one kind (longest first), as
    rows of (a, b, c, t_min, t_max, cover, 0): each line seeded by the longest segment not yet
    on one, with every segment near-collinear with it."""
    if len(segs) == 0:
        return np.zeros((0, 7))
    # |sin| of the angle between two segments, from their unit normals: under 4 degrees
    # either way (modulo a half turn) is the same direction
    sin_between = np.abs(a[:, None] * b[None, :] - b[:, None] * a[None, :])
    dist = np.multiply.outer(a, mid[:, 0])
    dist += np.multiply.outer(b, mid[:, 1])
    dist += c[:, None]
    same = (sin_between < math.sin(math.radians(4.0))) & (np.abs(dist) < 2.5)  # row i: i's line
    # Greedy, longest first: only the grouping is sequential. Each row of `same` as a Python
    # int (bit j: segment j), so the loop does no numpy call per line found.
    rows_bits = np.packbits(same, axis=1, bitorder="little")
    on_line = [int.from_bytes(row.tobytes(), "little") for row in rows_bits]
    taken = 0
    seeds: list[int] = []
    groups: list[int] = []
    for i in range(len(segs)):  # they come longest first
        if taken >> i & 1:
            continue
        member = on_line[i] & ~taken
        taken |= member
        seeds.append(i)
        groups.append(member)
    width = rows_bits.shape[1]
    k = np.array(seeds)
    packed = np.frombuffer(b"".join(g.to_bytes(width, "little") for g in groups), np.uint8)
    m = np.unpackbits(packed.reshape(len(groups), width), axis=1, bitorder="little")
    m = m[:, : len(segs)].astype(bool)
    ux, uy = b[k][:, None], -a[k][:, None]  # along each seed's line
    t0 = segs[None, :, 0] * ux + segs[None, :, 1] * uy
    t1 = segs[None, :, 2] * ux + segs[None, :, 3] * uy
    lo = np.where(m, np.minimum(t0, t1), np.inf).min(axis=1)
    hi = np.where(m, np.maximum(t0, t1), -np.inf).max(axis=1)
    cover = np.minimum(hi - lo, (m * length[None, :]).sum(axis=1))
    best = np.argsort(-cover, kind="stable")[:MAX_LINES]  # the best-covered lines only
    line = k[best]
    columns = (a[line], b[line], c[line], lo[best], hi[best], cover[best])
    return np.column_stack([*columns, np.zeros(len(best))])


def _pairs(
    lines: _LineSet, min_clipped_gap: float, min_gap: float
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Index pairs (first, second), first nearer the origin, nearly parallel, not both the
    border, far enough apart (less when one is the border); and their distance."""
    i, j = _upper_pairs(len(lines))
    abc = lines.abc
    swap = -abc[i, 2] > -abc[j, 2]
    i, j = np.where(swap, j, i), np.where(swap, i, j)
    gap = abc[i, 2] - abc[j, 2]  # unit normals point the same way: offset difference
    cos = abc[i, 0] * abc[j, 0] + abc[i, 1] * abc[j, 1]
    either = lines.border[i] | lines.border[j]
    keep = (cos >= math.cos(math.radians(MAX_PAIR_DIFF_DEG))) & ~(lines.border[i] & lines.border[j])
    keep &= gap >= np.where(either, min_clipped_gap, min_gap)
    return np.stack([i[keep], j[keep]], axis=1), gap[keep]


@functools.cache
def _upper_pairs(n: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Every pair i < j of n lines; n is at most MAX_LINES + 2, so few are ever kept."""
    i, j = np.triu_indices(n, 1)
    i.flags.writeable = False
    j.flags.writeable = False
    return i, j


def _meet(l1: Lines, l2: Lines) -> npt.NDArray[np.float64]:
    """Where lines l1 and l2 cross (the cross product of their homogeneous forms)."""
    a1, b1, c1 = l1[..., 0], l1[..., 1], l1[..., 2]
    a2, b2, c2 = l2[..., 0], l2[..., 1], l2[..., 2]
    w = a1 * b2 - b1 * a2
    w = np.where(np.abs(w) < 1e-9, 1e-9, w)
    return np.stack([(b1 * c2 - c1 * b2) / w, (c1 * a2 - a1 * c2) / w], axis=-1)


def _sides_ok(
    lines: _LineSet, start: npt.NDArray[np.float64], end: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """For each line (rows) and pair of lines crossing it (columns), whether the side between
    the two crossings (`start`, `end`: where along the line they are) lies within the line's
    edges and is mostly covered by them; for a whole outline, then for one running off the
    frame, whose sides run right up to the border while a whole one's may be broken by
    fingers. The frame border itself always passes."""
    s_lo, s_hi = np.minimum(start, end), np.maximum(start, end)
    span = s_hi - s_lo
    t_min, t_max = lines.t_min[:, None], lines.t_max[:, None]
    covered = lines.cover[:, None] >= 0.45 * span
    border = lines.border[:, None]
    judged = []
    for slack, share in ((0.12 * span + 2.0, 0.45), (4.0, 0.8)):
        overlap = np.minimum(s_hi, t_max + slack) - np.maximum(s_lo, t_min - slack)
        judged.append(((overlap >= share * span) & covered) | border)
    return judged[0], judged[1]


@dataclass(frozen=True)
class Focus:
    """Where a card is held (x0, y0, x1, y1 in the searched frame's pixels): a whole outline
    smaller than `min_area` whose centre lies outside it is taken for a thing in the room."""

    x0: float
    y0: float
    x1: float
    y1: float
    min_area: float


def find_quad(
    edges: GreyFrame, colour: BgrFrame | None = None, focus: Focus | None = None
) -> QuadHit | None:
    """The best card-shaped quadrilateral the edge map supports, or None.

    With `colour` (the picture the edges came from), a side also counts where the colours
    on its two sides differ: a light card before light skin leaves gaps in grey edges.
    """
    h, w = edges.shape
    segs = segments(edges)
    if len(segs) < 2:
        return None
    hor, ver = _lines_of(segs, w, h)
    min_short = math.sqrt(MIN_AREA_SHARE * w * h / ID1_ASPECT)
    hp, h_gap = _pairs(hor, 0.3 * min_short, 0.8 * min_short)
    vp, v_gap = _pairs(ver, 0.3 * min_short * ID1_ASPECT, 0.8 * min_short * ID1_ASPECT)
    if len(hp) == 0 or len(vp) == 0:
        return None
    # width over height of each combination, by kind of clipping, before any corner is computed
    ratio = v_gap[None, :] / h_gap[:, None]
    h_clip = np.asarray(hor.border[hp].any(axis=1), dtype=np.bool_)[:, None]
    v_clip = np.asarray(ver.border[vp].any(axis=1), dtype=np.bool_)[None, :]
    lo = np.where(v_clip, 0.3 * MIN_ASPECT, 0.85 * MIN_ASPECT)
    hi = np.where(h_clip, MAX_ASPECT / 0.3, 1.15 * MAX_ASPECT)
    fits = (ratio >= lo) & (ratio <= hi) & ~(h_clip & v_clip)
    if not fits.any():
        return None
    # every corner is where one horizontal line meets one vertical line: meet each such pair
    # once, and where along both lines that is
    at = _meet(hor.abc[:, None, :], ver.abc[None, :, :])  # H × V × 2
    along_h = at[..., 0] * hor.abc[:, None, 1] - at[..., 1] * hor.abc[:, None, 0]
    along_v = at[..., 0] * ver.abc[None, :, 1] - at[..., 1] * ver.abc[None, :, 0]
    # Whether a side lies on its line's edges depends only on its line and the two lines
    # crossing it (and on whether the outline runs off the frame): judged once for each
    # line and pair of crossing lines, then looked up for every combination.
    top = _sides_ok(hor, along_h[:, vp[:, 0]], along_h[:, vp[:, 1]])  # 2 × H × pairs of V
    side = _sides_ok(ver, along_v[hp[:, 0]].T, along_v[hp[:, 1]].T)  # 2 × V × pairs of H
    on_edges = [
        top[k][hp[:, 0]] & top[k][hp[:, 1]] & side[k][vp[:, 0]].T & side[k][vp[:, 1]].T
        for k in (0, 1)
    ]
    hi_idx, vi_idx = np.nonzero(fits & np.where(h_clip | v_clip, on_edges[1], on_edges[0]))
    if len(hi_idx) == 0:
        return None
    top_i, right_i = hp[hi_idx, 0], vp[vi_idx, 1]
    bottom_i, left_i = hp[hi_idx, 1], vp[vi_idx, 0]
    corner = ((top_i, left_i), (top_i, right_i), (bottom_i, right_i), (bottom_i, left_i))
    quads = np.stack([at[i, k] for i, k in corner], axis=1)
    border = np.stack(
        [hor.border[top_i], ver.border[right_i], hor.border[bottom_i], ver.border[left_i]], axis=1
    )
    keep = _shape_ok(quads, border, w, h)
    if focus is not None:
        centre = quads.mean(axis=1)
        inside = (centre[:, 0] >= focus.x0) & (centre[:, 0] <= focus.x1)
        inside &= (centre[:, 1] >= focus.y0) & (centre[:, 1] <= focus.y1)
        keep &= inside | border.any(axis=1) | (_area(quads) >= focus.min_area)
    quads, border = quads[keep], border[keep]
    if len(quads) == 0:
        return None
    near = np.asarray(cv2.dilate(edges, np.ones((3, 3), np.uint8)), dtype=np.uint8)
    support, strict = _support(near, quads, border, colour)
    real = ~border
    clipped = np.asarray(border.any(axis=1), dtype=np.bool_)
    least = np.where(clipped, CLIPPED_SIDE_SUPPORT, MIN_SIDE_SUPPORT)
    side_ok = np.where(real, support >= least[:, None], True).all(axis=1)
    mean = (support * real).sum(axis=1) / real.sum(axis=1)
    good = side_ok & (mean >= MIN_MEAN_SUPPORT)
    if clipped.any():
        good[clipped] &= _reach_border(near, quads[clipped], border[clipped], colour)
    if not good.any():
        return None
    # the biggest well-supported outline: shapes inside the card (photo, colour band) are smaller
    # colour steps let a side through, but grey edges rank: a line that merely runs along
    # some colour boundary (a poster's side, a shoulder) makes many outlines look whole
    sharp = (strict * real).sum(axis=1) / real.sum(axis=1)
    score = np.where(good, _area(quads) * (mean * sharp) ** 2, -1.0)
    best = int(np.argmax(score))
    return QuadHit(quads[best], bool(clipped[best]), float(mean[best]))


def _area(quads: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    x, y = quads[..., 0], quads[..., 1]
    return np.asarray(
        0.5 * np.abs((x * y[:, _NEXT] - x[:, _NEXT] * y).sum(axis=1)),
        dtype=np.float64,
    )


def _shape_ok(
    quads: npt.NDArray[np.float64], border: npt.NDArray[np.bool_], w: int, h: int
) -> npt.NDArray[np.bool_]:
    x, y = quads[..., 0], quads[..., 1]
    inside = ((x >= -1.5) & (x <= w + 0.5) & (y >= -1.5) & (y <= h + 0.5)).all(axis=1)
    edge = quads[:, _NEXT] - quads  # top, right, bottom, left
    turn = edge[..., 0] * edge[:, _NEXT, 1] - edge[..., 1] * edge[:, _NEXT, 0]
    convex = (turn > 0).all(axis=1)
    side = np.hypot(edge[..., 0], edge[..., 1])
    across = (side[:, 0] + side[:, 2]) / 2  # top and bottom
    down = (side[:, 1] + side[:, 3]) / 2
    long_side, short_side = np.maximum(across, down), np.maximum(np.minimum(across, down), 1e-6)
    aspect = long_side / short_side
    whole = ~border.any(axis=1) & (aspect >= MIN_ASPECT) & (aspect <= MAX_ASPECT)
    # Clipped: the side facing the border gives the card's true size; the visible depth
    # must not exceed it.
    clipped_lr = border[:, 1] | border[:, 3]
    facing_lr = np.where(border[:, 1], side[:, 3], side[:, 1])
    facing_tb = np.where(border[:, 0], side[:, 2], side[:, 0])
    depth_ratio = np.where(
        clipped_lr, across / (facing_lr * ID1_ASPECT), down / (facing_tb / ID1_ASPECT)
    )
    facing = np.where(clipped_lr, facing_lr / h, facing_tb / w)
    clipped = border.any(axis=1) & (depth_ratio >= 0.3) & (depth_ratio <= 1.05)
    clipped &= facing >= MIN_CLIPPED_FACING
    big = _area(quads) >= MIN_AREA_SHARE * w * h
    return np.asarray(inside & convex & big & (whole | clipped), dtype=np.bool_)


def _support(
    near: GreyFrame,
    quads: npt.NDArray[np.float64],
    border: npt.NDArray[np.bool_],
    colour: BgrFrame | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per side, the share of sample points on an edge or a colour step (see `_on_edge`),
    and the share on an edge of the edge map alone."""
    edge, step = _on_edge(near, colour, quads, quads[:, _NEXT], _ALONG_SIDE)
    either = np.asarray((edge | step).mean(axis=2), dtype=np.float64)
    strict = np.asarray(edge.mean(axis=2), dtype=np.float64)
    return np.where(border, 1.0, either), np.where(border, 1.0, strict)


def _reach_border(
    near: GreyFrame,
    quads: npt.NDArray[np.float64],
    border: npt.NDArray[np.bool_],
    colour: BgrFrame | None = None,
) -> npt.NDArray[np.bool_]:
    """Whether the two sides meeting the border side of each clipped quad run right up to
    it: a whole card's sides stop at its corners, some way short of the border."""
    b = np.argmax(border, axis=1)
    rows = np.arange(len(quads))
    # side b-1 ends at corner b and side b+1 starts at corner b+1, both on the border
    far = np.stack([quads[rows, (b + 3) % 4], quads[rows, (b + 2) % 4]], axis=1)
    at = np.stack([quads[rows, b], quads[rows, (b + 1) % 4]], axis=1)
    # points a fixed few pixels from the border: a card standing off it by more shows a gap
    length = np.maximum(np.hypot(*(at - far).transpose(2, 0, 1)), 1e-9)
    t = 1.0 - _FROM_BORDER[None, None, :] / length[..., None]
    edge, step = _on_edge(near, colour, far, at, t)
    hit = edge | step
    return np.asarray((hit.mean(axis=2) >= MIN_END_SUPPORT).all(axis=1), dtype=np.bool_)


def _on_edge(
    near: GreyFrame,
    colour: BgrFrame | None,
    start: npt.NDArray[np.float64],
    end: npt.NDArray[np.float64],
    t: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """For lines start → end (n × k × 2), whether the points at fractions `t` (S, or
    n × k × S) of each have an
    edge pixel within one pixel, and (given `colour`) whether the colours either side of the
    line differ there."""
    h, w = near.shape
    s, e = start[:, :, None, :], end[:, :, None, :]
    along = t if t.ndim == 3 else t[None, None, :]  # per line, or the same for all
    pts = s + (e - s) * along[..., None]
    edge = np.asarray(near[_px(pts[..., 1], h), _px(pts[..., 0], w)] > 0, dtype=np.bool_)
    if colour is None:
        return edge, np.zeros_like(edge)
    d = e - s
    normal = np.stack([-d[..., 1], d[..., 0]], axis=-1)
    normal *= STEP_OFFSET_PX / np.maximum(np.hypot(d[..., 0], d[..., 1]), 1e-9)[..., None]
    a, b = pts + normal, pts - normal
    ca = colour[_px(a[..., 1], h), _px(a[..., 0], w)].astype(np.int16)
    cb = colour[_px(b[..., 1], h), _px(b[..., 0], w)].astype(np.int16)
    diff = np.abs(ca - cb)  # the most different channel decides; three slices beat a max
    step = diff[..., 0] >= MIN_COLOUR_STEP
    step |= diff[..., 1] >= MIN_COLOUR_STEP
    step |= diff[..., 2] >= MIN_COLOUR_STEP
    return edge, step


def _px(v: npt.NDArray[np.float64], n: int) -> npt.NDArray[np.intp]:
    # the two ufuncs in place: np.clip's Python wrapper costs more than the work here
    idx = np.rint(v).astype(np.intp)
    np.maximum(idx, 0, out=idx)
    np.minimum(idx, n - 1, out=idx)
    return idx


def refine(edges: GreyFrame, hit: QuadHit) -> npt.NDArray[np.float64]:
    """The corners again, each real side refitted to the edge pixels along it."""
    q = hit.corners
    h, w = edges.shape
    x0, y0 = (max(0, int(v) - 3) for v in q.min(axis=0))
    x1, y1 = (min(n, int(v) + 4) for v, n in zip(q.max(axis=0), (w, h), strict=True))
    # only edge pixels near the outline: text and pictures inside the card are many more
    band = np.zeros((y1 - y0, x1 - x0), np.uint8)
    outline = np.rint(q - np.array([x0, y0])).astype(np.int32)
    cv2.polylines(band, [outline], True, 255, 5)
    ys, xs = np.nonzero(cv2.bitwise_and(edges[y0:y1, x0:x1], band))
    pts = np.stack([xs + x0, ys + y0], axis=1).astype(np.float32)
    # all four sides at once: where each edge pixel lies along each side and off it
    d = q[_NEXT] - q
    length = np.hypot(d[:, 0], d[:, 1])
    u = d / np.maximum(length, 1e-9)[:, None]
    n = np.stack([-u[:, 1], u[:, 0]], axis=1)
    rel_x = pts[None, :, 0] - q[:, 0, None]
    rel_y = pts[None, :, 1] - q[:, 1, None]
    along = rel_x * u[:, 0, None] + rel_y * u[:, 1, None]
    off = rel_x * n[:, 0, None] + rel_y * n[:, 1, None]
    near = (np.abs(off) <= 1.6) & (along >= 0.08 * length[:, None])
    near &= along <= 0.92 * length[:, None]
    lines: list[npt.NDArray[np.float64]] = []
    for k in range(4):
        sel = near[k]
        if np.count_nonzero(sel) >= 8:
            vx, vy, px, py = cv2.fitLine(pts[sel], cv2.DIST_L2, 0, 0.01, 0.01).ravel()
            a, b = -float(vy), float(vx)
            lines.append(np.array([a, b, -(a * px + b * py)]))
        else:
            lines.append(np.array([n[k, 0], n[k, 1], -float(n[k] @ q[k])]))
    sides = np.array(lines)
    out = _meet(np.roll(sides, 1, axis=0), sides)  # corner k: side k-1 meets side k
    if np.abs(out - q).max() > 3.0:  # a refit pulled astray by clutter along the side
        return q
    return out
