// Where the projection's template labels go: next to their template, inside the plot, clear of each
// other and of the other templates (two templates a few pixels apart printed their names on top of
// each other when every label sat at the same offset).

/** A labelled point in data coordinates. */
export interface LabelledPoint {
  x: number;
  y: number;
  label: string;
}

/** A label's offset from its point, as Vega's text mark takes it. */
export interface Placement extends LabelledPoint {
  dx: number;
  dy: number;
  align: 'left' | 'center' | 'right';
  baseline: 'top' | 'middle' | 'bottom';
}

/** The plot: data domains and the pixel size they map to; the label font size in px. */
export interface Frame {
  x: [number, number];
  y: [number, number];
  width: number;
  height: number;
  fontSize: number;
}

type Box = [number, number, number, number];

/** Gap between a point and its label, px; half the size of a template's cross. */
const GAP = 7;
const MARK = 6;
/** Width of a character of the bold label font, as a multiple of the font size (generous). */
const CHAR = 0.66;

const CANDIDATES: Omit<Placement, keyof LabelledPoint>[] = [
  { dx: 0, dy: -GAP, align: 'center', baseline: 'bottom' },
  { dx: 0, dy: GAP, align: 'center', baseline: 'top' },
  { dx: GAP, dy: 0, align: 'left', baseline: 'middle' },
  { dx: -GAP, dy: 0, align: 'right', baseline: 'middle' },
  { dx: GAP, dy: -GAP, align: 'left', baseline: 'bottom' },
  { dx: -GAP, dy: -GAP, align: 'right', baseline: 'bottom' },
  { dx: GAP, dy: GAP, align: 'left', baseline: 'top' },
  { dx: -GAP, dy: GAP, align: 'right', baseline: 'top' },
];

function overlap(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  return w > 0 && h > 0 ? w * h : 0;
}

/** The pixel box [left, top, right, bottom] of a label at (px, py) placed as `c`. */
function labelBox(px: number, py: number, text: string, c: (typeof CANDIDATES)[number], f: Frame): Box {
  const w = text.length * CHAR * f.fontSize;
  const h = 1.2 * f.fontSize;
  const x = px + c.dx;
  const y = py + c.dy;
  const left = c.align === 'left' ? x : c.align === 'right' ? x - w : x - w / 2;
  const top = c.baseline === 'top' ? y : c.baseline === 'bottom' ? y - h : y - h / 2;
  return [left, top, left + w, top + h];
}

/**
 * A placement for each label, greedily in order: the first candidate position (above, below, right,
 * left, then the diagonals) whose box lies inside the plot and clear of the labels placed so far and of
 * every point's mark; when none is clear, the one overlapping least.
 */
export function placeLabels(points: LabelledPoint[], f: Frame): Placement[] {
  const px = (x: number) => ((x - f.x[0]) / (f.x[1] - f.x[0])) * f.width;
  const py = (y: number) => f.height - ((y - f.y[0]) / (f.y[1] - f.y[0])) * f.height;
  const marks: Box[] = points.map((p) => [px(p.x) - MARK, py(p.y) - MARK, px(p.x) + MARK, py(p.y) + MARK]);
  const placed: Box[] = [];
  return points.map((p) => {
    let best = { cost: Number.POSITIVE_INFINITY, c: CANDIDATES[0], box: [0, 0, 0, 0] as Box };
    for (const c of CANDIDATES) {
      const box = labelBox(px(p.x), py(p.y), p.label, c, f);
      const outside =
        Math.max(0, -box[0]) +
        Math.max(0, box[2] - f.width) +
        Math.max(0, -box[1]) +
        Math.max(0, box[3] - f.height);
      const cost = 1000 * outside + [...placed, ...marks].reduce((a, b) => a + overlap(box, b), 0);
      if (cost < best.cost) best = { cost, c, box };
      if (cost === 0) break;
    }
    placed.push(best.box);
    return { ...p, ...best.c };
  });
}
