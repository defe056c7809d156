// ADM/LlamaGen preprocessing against the Python originals (Debian python3-pil, python3-torchvision):
// sharp's decoding equals Pillow's convert('RGB'); center_crop_arr (BOX halvings, BICUBIC resize,
// centre crop) and torchvision's TenCrop equal Pillow's pixels byte for byte on noisy images of
// awkward sizes (odd sides, several halvings, upscaling, exact halves in round()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { centerCropArr, pilResize, roundHalfEven, tenCrop } from '../../src/data/center-crop.js';
import { decodeRgb } from '../../src/data/decode-rgb.js';
import { tmpDir } from '../io/helpers.js';

const PYTHON = process.env.CTFGEN_PYTHON ?? '/usr/bin/python3';

// [width, height, size]: odd sizes, 2 and 3 halvings, a side that becomes x.5 before round(), upscaling
const CASES: [number, number, number][] = [
  [500, 375, 256],
  [1031, 777, 128],
  [2050, 1700, 256],
  [281, 300, 256],
  [90, 60, 100],
  [600, 255, 64],
  [333, 201, 67],
];

const SCRIPT = `
import sys, json, numpy as np
from PIL import Image
from torchvision import transforms
d, cases = sys.argv[1], json.loads(sys.argv[2])
def center_crop_arr(pil_image, image_size):  # guided-diffusion / LlamaGen, verbatim
    while min(*pil_image.size) >= 2 * image_size:
        pil_image = pil_image.resize(tuple(x // 2 for x in pil_image.size), resample=Image.BOX)
    scale = image_size / min(*pil_image.size)
    pil_image = pil_image.resize(tuple(round(x * scale) for x in pil_image.size), resample=Image.BICUBIC)
    arr = np.array(pil_image)
    crop_y = (arr.shape[0] - image_size) // 2
    crop_x = (arr.shape[1] - image_size) // 2
    return arr[crop_y : crop_y + image_size, crop_x : crop_x + image_size]
rng = np.random.default_rng(0)
for i, (w, h, size) in enumerate(cases):
    a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    a[: h // 3] = (np.linspace(0, 255, w)[None, :, None] + np.arange(h // 3)[:, None, None]).astype(np.uint8)  # smooth band
    Image.fromarray(a).save(f'{d}/{i}.png')
    img = Image.open(f'{d}/{i}.png').convert('RGB')
    open(f'{d}/{i}.crop', 'wb').write(center_crop_arr(img, size).tobytes())
    open(f'{d}/{i}.box', 'wb').write(np.array(img.resize((w // 2, h // 2), resample=Image.BOX)).tobytes())
    open(f'{d}/{i}.cubic', 'wb').write(np.array(img.resize((w * 2 // 3 + 1, h * 3 // 2), resample=Image.BICUBIC)).tobytes())
    if i == 0:  # LlamaGen --ten-crop: center_crop_arr to int(size * 1.1), then TenCrop(size)
        big = Image.fromarray(center_crop_arr(img, int(size * 1.1)))
        open(f'{d}/ten', 'wb').write(b''.join(np.array(c).tobytes() for c in transforms.TenCrop(size)(big)))
Image.fromarray(rng.integers(0, 256, (40, 30, 4), dtype=np.uint8), 'RGBA').save(f'{d}/rgba.png')
Image.fromarray(rng.integers(0, 256, (40, 30), dtype=np.uint8), 'L').save(f'{d}/grey.jpg', quality=85)
for name in ['rgba.png', 'grey.jpg']:
    open(f'{d}/{name}.rgb', 'wb').write(np.array(Image.open(f'{d}/{name}').convert('RGB')).tobytes())
`;

test('center_crop_arr, Pillow BOX/BICUBIC resizes and TenCrop equal Pillow + torchvision byte for byte; decoding equals convert("RGB")', async () => {
  const d = tmpDir('crop');
  execFileSync(PYTHON, ['-c', SCRIPT, d, JSON.stringify(CASES)]);
  for (const [i, [w, h, size]] of CASES.entries()) {
    const img = await decodeRgb(join(d, `${i}.png`));
    assert.deepEqual([img.width, img.height], [w, h]);
    const same = (ours: Uint8Array, file: string, what: string) => {
      const ref = readFileSync(join(d, file));
      assert.equal(ours.length, ref.length, `${what}: size`);
      let diff = 0;
      for (let j = 0; j < ref.length; j++) if (ours[j] !== ref[j]) diff++;
      assert.equal(diff, 0, `${what}: ${diff} of ${ref.length} bytes differ from Pillow`);
    };
    same(centerCropArr(img, size).data, `${i}.crop`, `center_crop_arr ${w}x${h} → ${size}`);
    same(pilResize(img, Math.floor(w / 2), Math.floor(h / 2), 'box').data, `${i}.box`, `BOX ${w}x${h}`);
    same(pilResize(img, Math.floor((w * 2) / 3) + 1, Math.floor((h * 3) / 2), 'bicubic').data, `${i}.cubic`, `BICUBIC ${w}x${h}`);
    if (i === 0) {
      const crops = tenCrop(centerCropArr(img, Math.trunc(size * 1.1)), size);
      assert.equal(crops.length, 10);
      const all = new Uint8Array(crops.reduce((n, c) => n + c.data.length, 0));
      crops.forEach((c, k) => all.set(c.data, k * c.data.length));
      same(all, 'ten', 'TenCrop');
    }
  }
  for (const name of ['rgba.png', 'grey.jpg']) {
    const img = await decodeRgb(join(d, name));
    assert.ok(
      Buffer.from(img.data).equals(readFileSync(join(d, `${name}.rgb`))),
      `${name}: decoded pixels differ from Pillow's convert('RGB')`,
    );
  }
});

test("roundHalfEven is Python's round()", () => {
  assert.deepEqual([0.5, 1.5, 2.5, 2.4999, 2.5001, 3, 255.5, 256.5].map(roundHalfEven), [0, 2, 2, 2, 3, 3, 256, 256]);
});
