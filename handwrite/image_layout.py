"""Layout analysis of page images: a page's ink -> its text lines, each cut out and levelled.

1. The page's ink (`imaging.ink_map`) falls apart into blobs: connected pieces
   of ink (a letter, a word written in one go, a dot). Ruled lines and margins
   (straight runs across much of the page) are taken out first; specks far
   smaller than writing (grain, noise) are left out of the layout, and so are
   faint, soft blotches of a textured or dirty sheet.
2. Blobs are grouped into lines by the rules that group pen strokes
   (`layout.find_blob_lines`): the page's angle and line spacing from its
   sharpest profile, lines grown left to right along their own slope, pieces of
   a line joined, dots and commas attached to the line they belong to.
3. Every pixel of ink goes to its blob's line, except where a blob reaches across
   another line's centre line (a descender touching the ascender below it): such
   a blob's pixels are shared out by which centre line is nearer, which cuts
   along the path between the two lines; specks go with the line they lie in or
   next to, unless fainter than that line's writing (grain). Faint edges follow
   the ink beside them.
4. Each line is cut out with only its own ink (a neighbour's descender reaching
   into its box is not part of it), levelled (columns moved up or down to take
   out the line's slope) and cropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from handwrite.layout import BlobLine, find_blob_lines, typical_blob_area

INK_LEVEL = 0.25  # ink at least this dark (0..1) makes blobs; fainter edges follow them
SPECK_SHARE = 0.03  # a blob with less area than this share of a typical blob's is a speck
LARGE_BLOBS = 3  # the third largest blob stands for the writing's size (one huge blob may be a drawing)
LARGE_SHARE = 0.05  # a blob smaller than this share of it is a speck
SPECK_REACH = 1.0  # a speck this far (in line heights) beyond a line's box still goes with it (an i-dot high above)
MAX_BLOBS = 5_000  # a page with more blobs (noise; a dense page has about 2,500) keeps the largest
EDGE = 2  # pixels: faint ink this near a line's ink is part of it (the soft edge of a pen line)
CROSSING_MARGIN = 0.15  # of the writing height: how far past a centre line a blob must reach to cross it
RULE_SHARE = 0.3  # a straight run of ink this share of the page across (or down) is a ruled line
MIN_RULE = 100  # pixels: never shorter (a long pen stroke in a small image is writing)
THIN_LINE = 0.35  # a line less tall than this share of the page's typical line is dust or a rule left over
# A blob faint at its darkest (under FAINT_PEAK of the page's full ink) may be the sheet:
# grain and blotches of textured or dirty paper. A speck fainter than FAINT_PEAK of the
# writing of the line it lies in never joins it (grain around a line made it tall and
# noisy), and a faint blob that is also soft (mean steepness at its rim under SOFT_EDGE
# of its darkest, per pixel) is not writing at all. Measured on pages drawn as scans:
# blotches 0.085-0.135; a line in lighter ink than the rest of its page, 0.155 or more.
# Clean renders of testset_v have no faint blob (every blob 0.7 or darker).
FAINT_PEAK = 0.6
SOFT_EDGE = 0.145


@dataclass(frozen=True)
class PageLine:
    """One text line of a page image."""

    ink: np.ndarray  # (h, w) float32: the line's own ink, levelled and cropped
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of its ink on the page (pixels, end exclusive)


def page_lines(ink: np.ndarray) -> list[PageLine]:
    """The text lines of a page's ink map (`imaging.ink_map`), top to bottom."""
    layout = blob_layout(ink)
    return layout.cut() if layout is not None else []


@dataclass(frozen=True)
class BlobLayout:
    """A page's blobs grouped into lines (steps 1 and 2), before each line is cut out:
    a page found to hold one line is read whole, so it need not be cut at all."""

    ink: np.ndarray
    lines: list[BlobLine]
    kept: np.ndarray  # the blobs read (not specks)
    peaks: np.ndarray  # per blob: its darkest ink
    xs: np.ndarray  # every ink pixel, sorted by blob
    ys: np.ndarray
    blob_of: np.ndarray
    areas: np.ndarray  # each blob's

    def cut(self) -> list[PageLine]:
        """Each line with its own ink, levelled and cropped, top to bottom (steps 3 and 4)."""
        ink, xs, ys = self.ink, self.xs, self.ys
        line_of_pixel = _line_of_each_pixel(self.lines, self.kept, self.peaks, self.blob_of, xs, ys, self.areas)
        owner = np.zeros(ink.shape, dtype=np.int32)  # 0: no line; k + 1: line k
        owner[ys, xs] = line_of_pixel + 1
        owner = _with_edges(owner, ink)
        cut = []
        for k, line in enumerate(self.lines):
            mine = line_of_pixel == k
            if mine.any():  # else all its ink went to lines it touches
                box = (int(xs[mine].min()), int(ys[mine].min()), int(xs[mine].max()) + 1, int(ys[mine].max()) + 1)
                cut.append(_cut_line(ink, owner, k + 1, line, box))
        typical = float(np.median([line.ink.shape[0] for line in cut])) if cut else 0.0
        return [line for line in cut if line.ink.shape[0] >= THIN_LINE * typical]


def blob_layout(ink: np.ndarray) -> BlobLayout | None:
    """The page's blobs and their lines; None when it has no line (no ink, or specks only)."""
    blobs = _blobs(_without_rules(ink > INK_LEVEL))
    if blobs is None:
        return None
    xs, ys, blob_of, areas = blobs
    starts = np.concatenate([[0], np.cumsum(areas)[:-1]])
    peaks = np.maximum.reduceat(ink[ys, xs], starts)
    faint = peaks < FAINT_PEAK
    sheet = _soft_faint_blobs(ink, xs, ys, blob_of, faint, peaks) if faint.any() else faint  # most pages: none
    kept = _blobs_to_read(np.where(sheet, 0, areas))
    xy = np.stack([xs, ys], axis=1).astype(np.float64)
    lines = find_blob_lines([xy[starts[i] : starts[i] + areas[i]] for i in kept.tolist()])
    return BlobLayout(ink, lines, kept, peaks, xs, ys, blob_of, areas) if lines else None


def _blobs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The mask's connected pieces (8-connected): every pixel's x, y and blob, sorted
    by blob, and each blob's area; None for a mask without ink."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    if not count:
        return None
    ys, xs = np.nonzero(labels)
    blob_of = labels[ys, xs] - 1
    order = np.argsort(blob_of, kind="stable")
    return xs[order], ys[order], blob_of[order], np.bincount(blob_of, minlength=count)


def _soft_faint_blobs(
    ink: np.ndarray, xs: np.ndarray, ys: np.ndarray, blob_of: np.ndarray, faint: np.ndarray, peaks: np.ndarray
) -> np.ndarray:
    """Per blob: faint, and soft-edged for how dark it is, as a blotch of the sheet is; a
    pen line, however light its ink, is about as steep at its edges as it is dark.
    Steepness is taken at the blob's rim only (pixels beside the paper): inside, a thick
    stroke is flat, so a mean over all its pixels would say how thick it is at this
    resolution. Only the faint blobs' pixels are looked at."""
    mine = faint[blob_of]
    xs, ys, blob_of = xs[mine], ys[mine], blob_of[mine]
    padded = np.pad(ink, 1, mode="edge")

    def at(dy: int, dx: int) -> np.ndarray:  # the ink beside each faint blob pixel
        return padded[ys + 1 + dy, xs + 1 + dx]

    gx = at(-1, 1) + 2 * at(0, 1) + at(1, 1) - at(-1, -1) - 2 * at(0, -1) - at(1, -1)  # Sobel
    gy = at(1, -1) + 2 * at(1, 0) + at(1, 1) - at(-1, -1) - 2 * at(-1, 0) - at(-1, 1)
    rim = np.minimum.reduce([at(0, 1), at(0, -1), at(1, 0), at(-1, 0)]) <= INK_LEVEL
    blob = blob_of[rim]
    rim_pixels = np.bincount(blob, minlength=len(faint))
    steepness = np.bincount(blob, weights=np.hypot(gx, gy)[rim] / 8, minlength=len(faint))  # 8: Sobel's weights
    return faint & (steepness / np.maximum(rim_pixels, 1) < SOFT_EDGE * peaks)


def _blobs_to_read(areas: np.ndarray) -> np.ndarray:
    """Indices of the blobs that are writing: not specks (against a typical blob,
    `layout.typical_blob_area`; blobs of the sheet come with area 0), and at most
    MAX_BLOBS of them."""
    typical = typical_blob_area(areas)
    # and against the few largest blobs (words written in one go): on a faint, noisy
    # line, specks of noise outnumber and outweigh the writing itself
    rank = min(LARGE_BLOBS, len(areas))
    large = float(np.partition(areas, -rank)[-rank])
    kept = np.flatnonzero(areas >= max(2.0, SPECK_SHARE * typical, LARGE_SHARE * large))
    if len(kept) > MAX_BLOBS:
        kept = kept[np.argsort(areas[kept])[::-1][:MAX_BLOBS]]
        kept.sort()
    return kept


def _line_of_each_pixel(
    lines: list[BlobLine],
    kept: np.ndarray,
    peaks: np.ndarray,
    blob_of: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    areas: np.ndarray,
) -> np.ndarray:
    """The line (index) of every ink pixel: its blob's line, except that a blob reaching
    across other lines' centre lines is split by nearest centre line; a speck goes to
    the line whose box holds it, or nowhere (-1): nowhere too when it is fainter than
    that line's writing (grain; a pencil's i-dot is as dark as the pencil)."""
    line_of_blob = np.full(len(areas), -1)
    for k, line in enumerate(lines):
        line_of_blob[kept[list(line.blobs)]] = k
    starts = np.concatenate([[0], np.cumsum(areas)[:-1]])
    boxes = _blob_boxes(xs, ys, starts)
    specks = np.flatnonzero(line_of_blob < 0)
    held = _line_holding(lines, boxes[:, specks])
    writing = np.array([np.median(peaks[kept[list(line.blobs)]]) for line in lines])  # each line's ink
    held[(held >= 0) & (peaks[specks] < FAINT_PEAK * writing[np.maximum(held, 0)])] = -1
    line_of_blob[specks] = held
    result = line_of_blob[blob_of]
    crossed = _crossings(lines, boxes, line_of_blob)
    crossed[:, specks] = False
    crossed[:, line_of_blob < 0] = False  # ink of no line is not shared out
    for blob in np.flatnonzero(crossed.any(axis=0)).tolist():
        candidates = np.union1d(np.flatnonzero(crossed[:, blob]), [line_of_blob[blob]])
        pixels = slice(starts[blob], starts[blob] + areas[blob])
        result[pixels] = _nearest_line(lines, candidates, xs[pixels], ys[pixels])
    return result


def _blob_boxes(xs: np.ndarray, ys: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """(4, blobs): x0, y0, x1, y1 of each blob's pixels."""
    return np.stack(
        [
            np.minimum.reduceat(xs, starts),
            np.minimum.reduceat(ys, starts),
            np.maximum.reduceat(xs, starts),
            np.maximum.reduceat(ys, starts),
        ]
    ).astype(np.float64)


def _crossings(lines: list[BlobLine], boxes: np.ndarray, line_of_blob: np.ndarray) -> np.ndarray:
    """(lines, blobs) True where a blob of another line reaches across this line's centre line."""
    x0, y0, x1, y1 = boxes
    middle = (x0 + x1) / 2
    heights = np.array([line.box[3] - line.box[1] for line in lines], dtype=np.float64)
    own_height = heights[np.maximum(line_of_blob, 0)]
    crossed = np.zeros((len(lines), len(line_of_blob)), dtype=bool)
    for k, line in enumerate(lines):
        centre = _centre_y(line, np.clip(middle, line.box[0], line.box[2]))
        margin = CROSSING_MARGIN * np.minimum(heights[k], own_height)
        beside = (x1 >= line.box[0]) & (x0 <= line.box[2])
        crossed[k] = beside & (y0 + margin < centre) & (centre < y1 - margin) & (line_of_blob != k)
    return crossed


def _line_holding(lines: list[BlobLine], boxes: np.ndarray) -> np.ndarray:
    """For each speck (its box), the line whose box, grown by its height, holds the
    speck's centre (a dot, a comma, a full stop after the last word), nearest its
    centre line if several do; -1 where none does (dust on the margin is no line's)."""
    cx, cy = (boxes[0] + boxes[2]) / 2, (boxes[1] + boxes[3]) / 2
    best, best_distance = np.full(len(cx), -1), np.full(len(cx), np.inf)
    for k, line in enumerate(lines):
        x0, y0, x1, y1 = line.box
        reach = SPECK_REACH * (y1 - y0)
        inside = (x0 - reach <= cx) & (cx <= x1 + reach) & (y0 - reach <= cy) & (cy <= y1 + reach)
        distance = np.abs(cy - _centre_y(line, cx))
        better = inside & (distance < best_distance)
        best[better], best_distance[better] = k, distance[better]
    return best


def _nearest_line(lines: list[BlobLine], candidates: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    if not len(candidates):
        return np.full(len(xs), -1)
    distances = np.stack([np.abs(ys - _centre_y(lines[k], xs)) for k in candidates.tolist()])
    return candidates[distances.argmin(axis=0)]


def _centre_y(line: BlobLine, x: float | np.ndarray) -> float | np.ndarray:
    return line.centre[1] + line.slope * (x - line.centre[0])


def _without_rules(mask: np.ndarray) -> np.ndarray:
    """The mask without ruled lines, margins and borders: straight runs of ink (a row
    or column give or take a pixel, for a rule scanned a little askew) much longer
    than any pen stroke. Letters crossing a rule lose only the rule's rows."""
    cleaned = mask.copy()
    for axis in (0, 1):
        length = max(MIN_RULE, RULE_SHARE * mask.shape[axis])
        cleaned &= ~_long_runs(mask, axis, int(length))
    return cleaned


def _long_runs(mask: np.ndarray, axis: int, length: int) -> np.ndarray:
    """Pixels of the mask on runs of at least `length` along `axis` (0: down the
    columns, 1: across the rows) in the mask thickened by a pixel either side."""
    if mask.shape[axis] < length:
        return np.zeros_like(mask)
    thick = ndimage.binary_dilation(mask, structure=np.ones((1, 3) if axis == 0 else (3, 1), dtype=bool))
    lines = np.moveaxis(thick, axis, -1).reshape(-1, thick.shape[axis])
    padded = np.pad(lines, ((0, 0), (1, 1)))
    edges = np.diff(padded.astype(np.int8), axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    long = ends - starts >= length
    marked = np.zeros((lines.shape[0], lines.shape[1] + 1), dtype=np.int32)  # +1 where a run starts, -1 after it
    np.add.at(marked, (rows[long], starts[long]), 1)
    np.add.at(marked, (rows[long], ends[long]), -1)
    on_run = np.cumsum(marked, axis=1)[:, :-1] > 0
    runs = np.moveaxis(on_run.reshape(np.moveaxis(thick, axis, -1).shape), -1, axis)
    return runs & mask


def _with_edges(owner: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Faint ink (below INK_LEVEL: the soft edge of a pen line) next to a line's ink
    joins that line, so a line keeps its strokes' full width."""
    grown = ndimage.grey_dilation(owner, size=(2 * EDGE + 1, 2 * EDGE + 1))
    faint = (owner == 0) & (ink > 0) & (ink <= INK_LEVEL)
    return np.where(faint, grown, owner)


def _cut_line(ink: np.ndarray, owner: np.ndarray, label: int, line: BlobLine, box: tuple[int, ...]) -> PageLine:
    """The line's own ink (in and just around `box`, where its pixels are), each column
    moved so its centre line runs level, cropped. Ink no line holds (specks far from
    any line, rules) is in no line's image."""
    x0, y0, x1, y1 = box
    region = (slice(max(0, y0 - EDGE), y1 + EDGE), slice(max(0, x0 - EDGE), x1 + EDGE))
    mine = owner[region] == label
    ys, xs = np.nonzero(mine)
    values = ink[region][ys, xs]
    left = region[1].start
    shift = np.round(line.slope * (xs + left - line.centre[0])).astype(int)
    levelled = ys - shift
    out = np.zeros((int(np.ptp(levelled)) + 1, int(np.ptp(xs)) + 1), dtype=np.float32)
    out[levelled - levelled.min(), xs - xs.min()] = values
    return PageLine(out, box)
