/**
 * Decoded images of a file list, in order, with decoding running ahead: sharp decodes in libuv's
 * thread pool while the JavaScript thread prepares earlier images (center_crop_arr, crops), so
 * large folders stream through at the speed of the slower of the two, in flat memory.
 */
import type { RgbImage } from './center-crop.js';
import { decodeRgb } from './decode-rgb.js';

export interface DecodedFile<T> {
  /** position in the file list */
  index: number;
  file: string;
  image: T;
}

/** Each file decoded (decodeRgb) and passed through `prepare`, in list order, `ahead` decodes in flight. */
export async function* decodedImages<T = RgbImage>(
  files: readonly string[],
  prepare: (img: RgbImage, file: string) => T,
  opts: { ahead?: number; start?: number } = {},
): AsyncGenerator<DecodedFile<T>, void, undefined> {
  const ahead = Math.max(1, opts.ahead ?? 8);
  const pending: Promise<RgbImage>[] = [];
  let next = opts.start ?? 0;
  const fill = () => {
    while (pending.length < ahead && next < files.length) {
      const p = decodeRgb(files[next++]!);
      p.catch(() => undefined); // rejections surface when awaited, in order
      pending.push(p);
    }
  };
  fill();
  for (let i = opts.start ?? 0; i < files.length; i++) {
    const img = await pending.shift()!;
    fill();
    yield { index: i, file: files[i]!, image: prepare(img, files[i]!) };
  }
}
