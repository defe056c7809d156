// The web app in a real browser (Debian's chromium driven by playwright-core): generate four images,
// see them beside their coarse maps and a label's legend, re-draw fine tokens, drag a region and
// re-generate it as another class, download a PNG, drive it from the keyboard, and fit a 375 px
// screen. Screenshots go to $CTFGEN_TEST_OUT (default: a temporary folder) for a person to look at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { startServer } from '../../src/serve/server.js';

const CHROMIUM = process.env.CTFGEN_CHROMIUM ?? '/usr/bin/chromium';
const out = process.env.CTFGEN_TEST_OUT ?? mkdtempSync(join(tmpdir(), 'ctf-browser-'));

const imageSrc = (page: Page, card: number) => page.locator('.card img').nth(card).getAttribute('src');
const canvasPixels = (page: Page, card: number) =>
  page
    .locator('.card .coarse canvas')
    .nth(card)
    .evaluate((c: HTMLCanvasElement) => Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data));

test('the web app: generate, coarse maps and legend, re-draw, edit a region, download, keyboard, 375 px', async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (or set CTFGEN_CHROMIUM)`);
  mkdirSync(out, { recursive: true });
  const server = await startServer({ port: 0, threads: 1 });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.locator('#model option').count(), 2);

    // generate four sneakers
    await page.selectOption('#cls', { label: '7 · Sneaker' });
    await page.locator('#n').fill('4');
    await page.click('#generate');
    await page.waitForFunction(
      () => document.querySelectorAll('.card').length === 4 && !(document.getElementById('generate') as HTMLButtonElement).disabled,
    );
    assert.equal(await page.locator('#progress').evaluate((p: HTMLProgressElement) => p.value), 1);
    assert.match((await page.locator('#status').textContent())!, /4 images in/);
    for (let i = 0; i < 4; i++) {
      assert.equal(
        await page
          .locator('.card img')
          .nth(i)
          .evaluate((im: HTMLImageElement) => im.naturalWidth),
        32,
      );
      const px = await canvasPixels(page, i);
      assert.equal(px.length, 8 * 8 * 4, 'an 8×8 coarse map');
      assert.ok(new Set(px.filter((_, j) => j % 4 === 0)).size > 1, 'the coarse map has several labels');
    }
    assert.match((await page.locator('.card figcaption').first().textContent())!, /Sneaker · seed 0 #0/);

    // hovering a coarse cell shows what its label holds
    await page
      .locator('.card .coarse canvas')
      .first()
      .hover({ position: { x: 40, y: 40 } });
    await page.waitForFunction(() => {
      const im = document.querySelector('#legend img') as HTMLImageElement | null;
      return document.getElementById('legend')!.style.display === 'block' && !!im && im.complete && im.naturalWidth > 0;
    });
    assert.match((await page.locator('#legend').textContent())!, /coarse label \d+: its member codes/);
    await page.screenshot({ path: join(out, 'serve-gallery.png'), fullPage: true });
    await page.mouse.move(5, 5);

    // re-draw fine tokens: a new image over the same coarse map
    const before = await imageSrc(page, 0);
    const coarseBefore = await canvasPixels(page, 0);
    await page.locator('.card .refine').first().click();
    await page.waitForFunction((src) => document.querySelector('.card img')!.getAttribute('src') !== src, before);
    assert.deepEqual(await canvasPixels(page, 0), coarseBefore);

    // edit a region: drag a rectangle on the second image, pick another class, re-generate
    const card = page.locator('.card').nth(1);
    await card.locator('.edit').click();
    const box = (await card.locator('.view.image').boundingBox())!;
    const cell = box.width / 8;
    await page.mouse.move(box.x + 1.5 * cell, box.y + 1.5 * cell);
    await page.mouse.down();
    await page.mouse.move(box.x + 4.5 * cell, box.y + 5.5 * cell, { steps: 5 });
    await page.mouse.up();
    assert.deepEqual(await Promise.all(['x0', 'y0', 'x1', 'y1'].map((k) => card.locator(`.coord-${k}`).inputValue())), [
      '1',
      '1',
      '5',
      '6',
    ]);
    await card.locator('.edit-class').selectOption({ label: 'Bag' });
    const editedBefore = await imageSrc(page, 1);
    await card.locator('.apply').click();
    await page.waitForFunction((src) => document.querySelectorAll('.card img')[1]!.getAttribute('src') !== src, editedBefore);
    assert.match((await card.locator('figcaption').textContent())!, /Sneaker · seed 0 #1 · region \(1,1\)–\(5,6\) as Bag/);
    await page.screenshot({ path: join(out, 'serve-edit.png'), fullPage: true });

    // download a PNG
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('.card .download').first().click()]);
    const file = join(out, 'download.png');
    await download.saveAs(file);
    const png = PNG.sync.read(readFileSync(file));
    assert.deepEqual([png.width, png.height], [32, 32]);
    assert.match(download.suggestedFilename(), /^ctfgen-Sneaker-\d+-0\.png$/);

    // the keyboard alone: focus the seed field, change it, press Enter to generate
    await page.locator('#seed').focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('3');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /seed 3/.test(document.querySelector('.card figcaption')?.textContent ?? ''));
    await page.locator('.card .coarse canvas').first().focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => document.getElementById('legend')!.style.display === 'block');

    // a phone-sized screen: nothing wider than the viewport
    await page.setViewportSize({ width: 375, height: 800 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than a 375 px screen`);
    await page.screenshot({ path: join(out, 'serve-375.png'), fullPage: true });
    assert.deepEqual(errors, []);
    console.log(`screenshots in ${out}`);
  } finally {
    await browser.close();
    await server.close();
  }
});
