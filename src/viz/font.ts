/**
 * A small built-in bitmap font: 5x9 glyph cells (7 rows above the baseline, 2 descender
 * rows) for printable ASCII 32..126, hand-written as bit rows, drawn with integer scaling.
 *
 * Metrics at scale s: every glyph advances GLYPH_ADVANCE·s pixels (5 columns of ink and one
 * of spacing), a line of text is LINE_HEIGHT·s pixels tall (9 rows of glyph and one of
 * spacing), and the baseline lies CAP_HEIGHT·s pixels below the top of the line. Characters
 * outside the table are drawn as a hollow box; '\n' starts a new line.
 */
import type { Canvas, ColorInput } from './canvas.js';

/** Ink columns of a glyph. */
export const GLYPH_WIDTH = 5;
/** Rows of a glyph cell, descenders included. */
export const GLYPH_HEIGHT = 9;
/** Rows above the baseline (capital letters and digits are this tall). */
export const CAP_HEIGHT = 7;
/** Horizontal advance per character at scale 1. */
export const GLYPH_ADVANCE = GLYPH_WIDTH + 1;
/** Vertical advance per line at scale 1. */
export const LINE_HEIGHT = GLYPH_HEIGHT + 1;

// One entry per character: rows top to bottom separated by spaces, '#' ink, '.' blank.
// Seven rows sit on the baseline; glyphs reaching below it give eight or nine.
// prettier-ignore
const GLYPH_ROWS: Record<string, string> = {
  ' ': '..... ..... ..... ..... ..... ..... .....',
  '!': '..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..',
  '"': '.#.#. .#.#. .#.#. ..... ..... ..... .....',
  '#': '.#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.',
  '$': '..#.. .#### #.#.. .###. ..#.# ####. ..#..',
  '%': '##... ##..# ...#. ..#.. .#... #..## ...##',
  '&': '.##.. #..#. #.#.. .#... #.#.# #..#. .##.#',
  "'": '..#.. ..#.. .#... ..... ..... ..... .....',
  '(': '...#. ..#.. .#... .#... .#... ..#.. ...#.',
  ')': '.#... ..#.. ...#. ...#. ...#. ..#.. .#...',
  '*': '..... ..#.. #.#.# .###. #.#.# ..#.. .....',
  '+': '..... ..#.. ..#.. ##### ..#.. ..#.. .....',
  ',': '..... ..... ..... ..... ..... .##.. .##.. ..#.. .#...',
  '-': '..... ..... ..... ##### ..... ..... .....',
  '.': '..... ..... ..... ..... ..... .##.. .##..',
  '/': '....# ....# ...#. ..#.. .#... #.... #....',
  '0': '.###. #...# #..## #.#.# ##..# #...# .###.',
  '1': '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  '2': '.###. #...# ....# ...#. ..#.. .#... #####',
  '3': '##### ...#. ..#.. ...#. ....# #...# .###.',
  '4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  '5': '##### #.... ####. ....# ....# #...# .###.',
  '6': '..##. .#... #.... ####. #...# #...# .###.',
  '7': '##### ....# ...#. ..#.. .#... .#... .#...',
  '8': '.###. #...# #...# .###. #...# #...# .###.',
  '9': '.###. #...# #...# .#### ....# ...#. .##..',
  ':': '..... ..... .##.. .##.. ..... .##.. .##..',
  ';': '..... ..... .##.. .##.. ..... .##.. .##.. ..#.. .#...',
  '<': '...#. ..#.. .#... #.... .#... ..#.. ...#.',
  '=': '..... ..... ##### ..... ##### ..... .....',
  '>': '.#... ..#.. ...#. ....# ...#. ..#.. .#...',
  '?': '.###. #...# ....# ...#. ..#.. ..... ..#..',
  '@': '.###. #...# ....# .##.# #.#.# #.#.# .###.',
  A: '.###. #...# #...# #...# ##### #...# #...#',
  B: '####. #...# #...# ####. #...# #...# ####.',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '###.. #..#. #...# #...# #...# #..#. ###..',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
  Z: '##### ....# ...#. ..#.. .#... #.... #####',
  '[': '.###. .#... .#... .#... .#... .#... .###.',
  '\\': '#.... #.... .#... ..#.. ...#. ....# ....#',
  ']': '.###. ...#. ...#. ...#. ...#. ...#. .###.',
  '^': '..#.. .#.#. #...# ..... ..... ..... .....',
  _: '..... ..... ..... ..... ..... ..... ..... #####',
  '`': '.#... ..#.. ...#. ..... ..... ..... .....',
  a: '..... ..... .###. ....# .#### #...# .####',
  b: '#.... #.... #.##. ##..# #...# #...# ####.',
  c: '..... ..... .###. #.... #.... #...# .###.',
  d: '....# ....# .##.# #..## #...# #...# .####',
  e: '..... ..... .###. #...# ##### #.... .###.',
  f: '..##. .#..# .#... ###.. .#... .#... .#...',
  g: '..... ..... .#### #...# #...# #...# .#### ....# .###.',
  h: '#.... #.... #.##. ##..# #...# #...# #...#',
  i: '..#.. ..... .##.. ..#.. ..#.. ..#.. .###.',
  j: '...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##..',
  k: '#.... #.... #..#. #.#.. ##... #.#.. #..#.',
  l: '.##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  m: '..... ..... ##.#. #.#.# #.#.# #.#.# #.#.#',
  n: '..... ..... #.##. ##..# #...# #...# #...#',
  o: '..... ..... .###. #...# #...# #...# .###.',
  p: '..... ..... ####. #...# #...# #...# ####. #.... #....',
  q: '..... ..... .#### #...# #...# #...# .#### ....# ....#',
  r: '..... ..... #.##. ##..# #.... #.... #....',
  s: '..... ..... .#### #.... .###. ....# ####.',
  t: '.#... .#... ###.. .#... .#... .#..# ..##.',
  u: '..... ..... #...# #...# #...# #..## .##.#',
  v: '..... ..... #...# #...# #...# .#.#. ..#..',
  w: '..... ..... #...# #...# #.#.# #.#.# .#.#.',
  x: '..... ..... #...# .#.#. ..#.. .#.#. #...#',
  y: '..... ..... #...# #...# #...# #...# .#### ....# .###.',
  z: '..... ..... ##### ...#. ..#.. .#... #####',
  '{': '...#. ..#.. ..#.. .#... ..#.. ..#.. ...#.',
  '|': '..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  '}': '.#... ..#.. ..#.. ...#. ..#.. ..#.. .#...',
  '~': '..... ..... .#... #.#.# ...#. ..... .....',
};

// A few common non-ASCII characters drawn with their own glyphs.
// prettier-ignore
const EXTRA_ROWS: Record<string, string> = {
  '\u00d7': '..... #...# .#.#. ..#.. .#.#. #...# .....', // ×
  '\u2212': '..... ..... ..... ##### ..... ..... .....', // − (minus sign)
  '\u00b7': '..... ..... ..... .##.. .##.. ..... .....', // ·
  '\u00b1': '..#.. ..#.. ##### ..#.. ..#.. ..... #####', // ±
  '\u2026': '..... ..... ..... ..... ..... ..... #.#.#', // …
};

/** Hollow box for characters without a glyph. */
const MISSING_ROWS = '##### #...# #...# #...# #...# #...# #####';

/** A glyph as GLYPH_HEIGHT row bitmasks; bit (GLYPH_WIDTH-1-col) set = ink at column col. */
type Glyph = Uint8Array;

function parseGlyph(ch: string, rows: string): Glyph {
  const parts = rows.split(' ');
  if (parts.length < CAP_HEIGHT || parts.length > GLYPH_HEIGHT) {
    throw new Error(`font: glyph ${JSON.stringify(ch)} has ${parts.length} rows, expected ${CAP_HEIGHT}..${GLYPH_HEIGHT}`);
  }
  const g = new Uint8Array(GLYPH_HEIGHT);
  parts.forEach((row, r) => {
    if (!/^[#.]{5}$/.test(row)) throw new Error(`font: glyph ${JSON.stringify(ch)} row ${r} is ${JSON.stringify(row)}`);
    let bits = 0;
    for (let c = 0; c < GLYPH_WIDTH; c++) bits = (bits << 1) | (row[c] === '#' ? 1 : 0);
    g[r] = bits;
  });
  return g;
}

const GLYPHS = new Map<string, Glyph>();
for (const [ch, rows] of Object.entries({ ...GLYPH_ROWS, ...EXTRA_ROWS })) GLYPHS.set(ch, parseGlyph(ch, rows));
const MISSING = parseGlyph('missing', MISSING_ROWS);

/** Whether `ch` has its own glyph (otherwise it is drawn as a hollow box). */
export function hasGlyph(ch: string): boolean {
  return GLYPHS.has(ch);
}

/** The glyph of one character: GLYPH_HEIGHT rows of GLYPH_WIDTH booleans (true = ink). */
export function glyphBitmap(ch: string): boolean[][] {
  const g = GLYPHS.get(ch) ?? MISSING;
  return Array.from(g, (bits) => Array.from({ length: GLYPH_WIDTH }, (_, c) => ((bits >> (GLYPH_WIDTH - 1 - c)) & 1) === 1));
}

function checkScale(scale: number, what: string): void {
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`${what}: scale must be a positive integer, got ${scale}`);
}

function lines(text: string): string[][] {
  return text.split('\n').map((l) => Array.from(l.replace(/\t/g, '  ')));
}

/**
 * Width in pixels of `text` drawn at `scale`: the widest line, from the first column of ink
 * to the last column of the last glyph cell (no trailing spacing). 0 for empty text.
 */
export function textWidth(text: string, scale = 1): number {
  checkScale(scale, 'textWidth');
  let max = 0;
  for (const l of lines(text)) max = Math.max(max, l.length);
  return max === 0 ? 0 : (max * GLYPH_ADVANCE - 1) * scale;
}

/** Height in pixels of `text` at `scale`: LINE_HEIGHT per line, less the spacing row after the last. */
export function textHeight(text: string, scale = 1): number {
  checkScale(scale, 'textHeight');
  return (lines(text).length * LINE_HEIGHT - 1) * scale;
}

/** Orientation of drawn text: normal, or turned 90° counter-clockwise (reads bottom to top). */
export type TextDirection = 'horizontal' | 'up';

/**
 * Draws `text` with its top-left corner at (x, y) (the top of the first line's cells; the
 * baseline is CAP_HEIGHT·scale lower). Pixels off the canvas are skipped. With direction 'up'
 * the text is turned 90° counter-clockwise so it reads bottom to top (a y-axis label); (x, y)
 * is then the top-left of its bounding box, which is textHeight wide and textWidth tall.
 * Returns the width drawn along the text direction (textWidth).
 */
export function drawText(
  canvas: Canvas,
  x: number,
  y: number,
  text: string,
  color: ColorInput,
  scale = 1,
  direction: TextDirection = 'horizontal',
): number {
  checkScale(scale, 'drawText');
  x = Math.round(x);
  y = Math.round(y);
  const width = textWidth(text, scale);
  lines(text).forEach((chars, li) => {
    chars.forEach((ch, ci) => {
      const g = GLYPHS.get(ch) ?? MISSING;
      const gx = ci * GLYPH_ADVANCE * scale; // along the text
      const gy = li * LINE_HEIGHT * scale; // across the text, downwards
      for (let r = 0; r < GLYPH_HEIGHT; r++) {
        const bits = g[r]!;
        if (bits === 0) continue;
        for (let c = 0; c < GLYPH_WIDTH; c++) {
          if (((bits >> (GLYPH_WIDTH - 1 - c)) & 1) === 0) continue;
          const tx = gx + c * scale;
          const ty = gy + r * scale;
          if (direction === 'horizontal') canvas.fillRect(x + tx, y + ty, scale, scale, color);
          else canvas.fillRect(x + ty, y + width - tx - scale, scale, scale, color);
        }
      }
    });
  });
  return width;
}

/** Shortens `text` with a trailing '..' so that it fits `maxWidth` pixels at `scale` ('' if nothing fits). */
export function fitText(text: string, maxWidth: number, scale = 1): string {
  if (textWidth(text, scale) <= maxWidth) return text;
  const chars = Array.from(text);
  for (let n = chars.length - 1; n > 0; n--) {
    const t = chars.slice(0, n).join('') + '..';
    if (textWidth(t, scale) <= maxWidth) return t;
  }
  return '';
}

/**
 * Breaks `text` into lines no wider than `maxWidth` pixels at `scale`, breaking at spaces
 * and after '-', '_' and '/'. Returns null when some piece cannot fit or more than
 * `maxLines` lines would be needed.
 */
export function wrapText(text: string, maxWidth: number, scale = 1, maxLines = Infinity): string[] | null {
  const pieces = text.match(/[^ \-_/]*[-_/]+|[^ ]+/g) ?? [];
  const out: string[] = [];
  let cur = '';
  for (const p of pieces) {
    const sep = cur === '' || /[-_/]$/.test(cur) ? '' : ' ';
    const next = cur + sep + p;
    if (textWidth(next, scale) <= maxWidth) {
      cur = next;
      continue;
    }
    if (cur !== '') out.push(cur);
    if (textWidth(p, scale) > maxWidth) return null;
    cur = p;
  }
  if (cur !== '' || out.length === 0) out.push(cur);
  return out.length <= maxLines ? out : null;
}
