// Colours for categorical maps (coarse-label maps): K distinct, stable colours, neighbours in label
// order far apart in hue (golden-angle steps), lightness and saturation varied in three bands so
// that hundreds of labels stay distinguishable.
import type { Color } from './canvas.js';

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

/** K colours, label i → colours[i]. */
export function labelMapColors(k: number): Color[] {
  if (!Number.isInteger(k) || k < 1) throw new Error(`labelMapColors: k must be a positive integer, got ${k}`);
  return Array.from({ length: k }, (_, i) => {
    const band = i % 3;
    return hslToRgb((i * 137.508) % 360, [0.75, 0.55, 0.9][band]!, [0.55, 0.38, 0.72][band]!);
  });
}
