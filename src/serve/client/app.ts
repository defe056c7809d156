/// <reference lib="dom" />
// The web app's behaviour (runs in the browser, served as /app.js): settings → /api/generate with
// progress streamed as server-sent events; a gallery of images beside their coarse maps (hover or
// arrow keys: what a label's codes look like); re-draw fine tokens (/api/refine); drag (or type) a
// region and re-generate it, optionally as another class (/api/edit); PNG download.

interface ModelInfo {
  name: string;
  kind: 'ctf' | 'baseline';
  classNames: string[];
  grid: number;
  clusters: number | null;
  palette: [number, number, number][] | null;
  defaults: { cfg: number; temperature: number; topK: number; topP: number; stage2: { temperature: number } };
  maxImages: number;
}
interface ImageOut {
  png: string;
  class: number;
  className: string;
  tokens: number[][];
  coarse?: number[][];
}
interface Result {
  images: ImageOut[];
  seconds: number;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('controls');
const modelSel = $<HTMLSelectElement>('model');
const classSel = $<HTMLSelectElement>('cls');
const gallery = $<HTMLElement>('gallery');
const progress = $<HTMLProgressElement>('progress');
const status = $<HTMLElement>('status');
const legend = $<HTMLElement>('legend');
const sliders = ['n', 'cfg', 't1', 't2', 'topk', 'topp'] as const;
const value = (id: string) => Number($<HTMLInputElement>(id).value);
let models: ModelInfo[] = [];
const current = () => models.find((m) => m.name === modelSel.value)!;

function setStatus(text: string): void {
  status.textContent = text;
}

for (const id of sliders) {
  const input = $<HTMLInputElement>(id);
  input.addEventListener('input', () => ($<HTMLOutputElement>(`${id}-out`).value = input.value));
}
const showSliders = () => sliders.forEach((id) => ($<HTMLOutputElement>(`${id}-out`).value = $<HTMLInputElement>(id).value));

function selectModel(): void {
  const m = current();
  classSel.replaceChildren(...m.classNames.map((n, i) => new Option(`${i} · ${n}`, String(i))));
  const set = (id: string, v: number) => ($<HTMLInputElement>(id).value = String(v));
  set('cfg', m.defaults.cfg);
  set('t1', m.defaults.temperature);
  set('t2', m.defaults.stage2.temperature);
  set('topk', m.defaults.topK);
  set('topp', m.defaults.topP);
  $<HTMLInputElement>('t2').disabled = m.kind !== 'ctf';
  showSliders();
}

/** POSTs a request and reads its server-sent events until the result (progress on the way). */
async function call(path: string, body: object, onProgress?: (p: { stage: string; done: number; total: number }) => void): Promise<Result> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(body),
  });
  if (!res.ok || !res.body) throw new Error(((await res.json().catch(() => ({}))) as { error?: string }).error ?? `HTTP ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value: chunk, done } = await reader.read();
    if (done) throw new Error('the server closed the stream before the result');
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null');
      if (event === 'progress') onProgress?.(data);
      else if (event === 'queued') setStatus(`waiting: ${data.ahead} request(s) ahead`);
      else if (event === 'result') return data as Result;
      else if (event === 'error') throw new Error(data.error);
    }
  }
}

function sampling() {
  return {
    cfg: value('cfg'),
    temperature: value('t1'),
    topK: value('topk'),
    topP: value('topp'),
    stage2: current().kind === 'ctf' ? { temperature: value('t2') } : undefined,
  };
}

function drawCoarse(canvas: HTMLCanvasElement, m: ModelInfo, coarse: number[][]): void {
  canvas.width = canvas.height = m.grid;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(m.grid, m.grid);
  coarse.flat().forEach((label, p) => {
    const [r, g, b] = m.palette![label]!;
    img.data.set([r, g, b, 255], 4 * p);
  });
  ctx.putImageData(img, 0, 0);
}

function showLegend(m: ModelInfo, label: number, x: number, y: number): void {
  legend.replaceChildren();
  const title = document.createElement('div');
  title.textContent = `coarse label ${label}: its member codes`;
  const img = new Image();
  img.alt = `member codes of coarse label ${label}`;
  img.src = `/api/models/${encodeURIComponent(m.name)}/labels/${label}.png`;
  legend.append(title, img);
  legend.style.left = `${Math.min(x + 12, window.innerWidth - 250)}px`;
  legend.style.top = `${y + 12}px`;
  legend.style.display = 'block';
}
const hideLegend = () => (legend.style.display = 'none');

interface CardState {
  model: ModelInfo;
  image: ImageOut;
  /** the class the image was generated as, and what was done to it since */
  title: string;
  history: string[];
  seed: number;
  region: { x0: number; y0: number; x1: number; y1: number };
}

function card(state: CardState, index: number): HTMLElement {
  const m = state.model;
  const fig = document.createElement('figure');
  fig.className = 'card';
  fig.innerHTML = `
    <div class="pair">
      <div class="view image"><img alt=""><div class="region"></div><div class="cap">image</div></div>
      ${m.kind === 'ctf' ? '<div class="view coarse"><canvas tabindex="0" aria-label="coarse map: arrow keys show what each label holds"></canvas><div class="cap">coarse map</div></div>' : ''}
    </div>
    <figcaption></figcaption>
    <div class="actions">
      ${m.kind === 'ctf' ? '<button type="button" class="secondary refine">Re-draw fine tokens</button>' : ''}
      <button type="button" class="secondary edit" aria-expanded="false">Edit region</button>
      <a class="button secondary download">Download PNG</a>
    </div>
    <div class="editor">
      <div class="coords"></div>
      <label>Class inside the region <select class="edit-class"></select></label>
      <button type="button" class="apply" style="margin-top:6px">Re-generate region</button>
    </div>`;
  const img = fig.querySelector('img')!;
  const caption = fig.querySelector('figcaption')!;
  const download = fig.querySelector<HTMLAnchorElement>('a.download')!;
  const regionBox = fig.querySelector<HTMLElement>('.region')!;
  const view = fig.querySelector<HTMLElement>('.view.image')!;
  const coarseCanvas = fig.querySelector('canvas');
  const editClass = fig.querySelector<HTMLSelectElement>('.edit-class')!;
  editClass.replaceChildren(...m.classNames.map((n, i) => new Option(n, String(i))));
  const coords = fig.querySelector<HTMLElement>('.coords')!;
  const inputs = (['x0', 'y0', 'x1', 'y1'] as const).map((k) => {
    const l = document.createElement('label');
    l.textContent = k;
    const inp = document.createElement('input');
    inp.type = 'number';
    inp.min = '0';
    inp.max = String(m.grid);
    inp.className = `coord-${k}`;
    inp.addEventListener('input', () => {
      state.region[k] = Math.max(0, Math.min(m.grid, Number(inp.value) | 0));
      showRegion();
    });
    l.append(inp);
    coords.append(l);
    return [k, inp] as const;
  });

  function showRegion(): void {
    const r = state.region;
    for (const [k, inp] of inputs) inp.value = String(r[k]);
    const cell = 100 / m.grid;
    Object.assign(regionBox.style, {
      left: `${r.x0 * cell}%`,
      top: `${r.y0 * cell}%`,
      width: `${(r.x1 - r.x0) * cell}%`,
      height: `${(r.y1 - r.y0) * cell}%`,
    });
    regionBox.style.display = fig.classList.contains('editing') ? 'block' : 'none';
  }
  function render(): void {
    const im = state.image;
    img.src = `data:image/png;base64,${im.png}`;
    img.alt = `generated ${im.className}`;
    caption.textContent = [`${state.title} #${index}`, ...state.history].join(' · ');
    download.href = img.src;
    download.download = `ctfgen-${im.className.replace(/[^A-Za-z0-9_-]+/g, '_')}-${state.seed}-${index}.png`;
    editClass.value = String(im.class);
    if (coarseCanvas && im.coarse) drawCoarse(coarseCanvas, m, im.coarse);
  }
  async function replace(path: string, body: object, what: string, note: string): Promise<void> {
    fig.querySelectorAll('button').forEach((b) => (b.disabled = true));
    setStatus(`${what}…`);
    try {
      const r = await call(path, body);
      state.image = r.images[0]!;
      state.history = [...state.history.slice(-2), note];
      render();
      setStatus(`${what}: done in ${r.seconds.toFixed(2)} s`);
    } catch (e) {
      setStatus(`${what} failed: ${(e as Error).message}`);
    } finally {
      fig.querySelectorAll('button').forEach((b) => (b.disabled = false));
    }
  }

  fig.querySelector('.refine')?.addEventListener('click', () => {
    state.seed += 1000;
    void replace(
      '/api/refine',
      { model: m.name, class: state.image.class, coarse: state.image.coarse, seed: state.seed, stage2: sampling().stage2 },
      'Re-drawing fine tokens',
      'fine tokens re-drawn',
    );
  });
  const editBtn = fig.querySelector<HTMLButtonElement>('.edit')!;
  editBtn.addEventListener('click', () => {
    const on = fig.classList.toggle('editing');
    editBtn.setAttribute('aria-expanded', String(on));
    showRegion();
    if (on) inputs[0]![1].focus();
  });
  fig.querySelector('.apply')!.addEventListener('click', () => {
    const r = state.region;
    if (!(r.x0 < r.x1 && r.y0 < r.y1)) return setStatus('the region needs x0 < x1 and y0 < y1');
    state.seed += 1;
    const as = m.classNames[Number(editClass.value)]!;
    void replace(
      '/api/edit',
      { model: m.name, class: Number(editClass.value), tokens: state.image.tokens, region: r, seed: state.seed, ...sampling() },
      'Re-generating the region',
      `region (${r.x0},${r.y0})–(${r.x1},${r.y1}) as ${as}`,
    );
  });

  // drag a rectangle on the image (snapped to token cells)
  let dragFrom: [number, number] | null = null;
  const cellAt = (e: PointerEvent, round: (x: number) => number): [number, number] => {
    const b = view.getBoundingClientRect();
    const f = (v: number, size: number) => Math.max(0, Math.min(m.grid, round((v / size) * m.grid)));
    return [f(e.clientX - b.left, b.width), f(e.clientY - b.top, b.width)];
  };
  view.addEventListener('pointerdown', (e) => {
    if (!fig.classList.contains('editing')) return;
    dragFrom = cellAt(e, Math.floor);
    view.setPointerCapture(e.pointerId);
    e.preventDefault();
  });
  view.addEventListener('pointermove', (e) => {
    if (!dragFrom) return;
    const [x, y] = cellAt(e, Math.ceil);
    state.region = {
      x0: Math.min(dragFrom[0], x - 1),
      y0: Math.min(dragFrom[1], y - 1),
      x1: Math.max(dragFrom[0] + 1, x),
      y1: Math.max(dragFrom[1] + 1, y),
    };
    showRegion();
  });
  view.addEventListener('pointerup', () => (dragFrom = null));

  if (coarseCanvas) {
    let cursor = 0;
    const labelAt = (p: number) => state.image.coarse!.flat()[p]!;
    coarseCanvas.addEventListener('mousemove', (e) => {
      const b = coarseCanvas.getBoundingClientRect();
      const x = Math.min(m.grid - 1, Math.floor(((e.clientX - b.left) / b.width) * m.grid));
      const y = Math.min(m.grid - 1, Math.floor(((e.clientY - b.top) / b.height) * m.grid));
      showLegend(m, labelAt(y * m.grid + x), e.clientX, e.clientY);
    });
    coarseCanvas.addEventListener('mouseleave', hideLegend);
    coarseCanvas.addEventListener('blur', hideLegend);
    coarseCanvas.addEventListener('keydown', (e) => {
      const moves: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -m.grid, ArrowDown: m.grid };
      if (!(e.key in moves)) return;
      e.preventDefault();
      cursor = Math.max(0, Math.min(m.grid * m.grid - 1, cursor + moves[e.key]!));
      const b = coarseCanvas.getBoundingClientRect();
      showLegend(
        m,
        labelAt(cursor),
        b.left + ((cursor % m.grid) + 0.5) * (b.width / m.grid),
        b.top + (Math.floor(cursor / m.grid) + 0.5) * (b.height / m.grid),
      );
    });
  }
  render();
  showRegion();
  return fig;
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const m = current();
  const button = $<HTMLButtonElement>('generate');
  button.disabled = true;
  progress.value = 0;
  const seed = Math.max(0, Math.floor(value('seed')));
  const n = value('n');
  setStatus('generating…');
  try {
    const r = await call('/api/generate', { model: m.name, class: Number(classSel.value), n, seed, ...sampling() }, (p) => {
      progress.value = p.stage === 'stage1' ? (0.9 * p.done) / p.total : p.stage === 'stage2' ? 0.95 : 1;
      setStatus(
        `${p.stage === 'stage1' ? (m.kind === 'ctf' ? 'stage 1: coarse labels' : 'tokens') : p.stage === 'stage2' ? 'stage 2: fine tokens' : 'decoding'} ${p.done}/${p.total}`,
      );
    });
    progress.value = 1;
    const g = Math.max(1, Math.round(m.grid / 2));
    gallery.replaceChildren(
      ...r.images.map((image, i) =>
        card({ model: m, image, title: `${image.className} · seed ${seed}`, history: [], seed, region: { x0: 0, y0: 0, x1: g, y1: g } }, i),
      ),
    );
    setStatus(`${r.images.length} images in ${r.seconds.toFixed(2)} s`);
  } catch (err) {
    setStatus(`failed: ${(err as Error).message}`);
  } finally {
    button.disabled = false;
  }
});

async function init(): Promise<void> {
  models = (await (await fetch('/api/models')).json()) as ModelInfo[];
  modelSel.replaceChildren(...models.map((m) => new Option(`${m.name} (${m.kind === 'ctf' ? 'CTF' : 'baseline'})`, m.name)));
  modelSel.addEventListener('change', selectModel);
  $<HTMLInputElement>('n').max = String(Math.min(16, models[0]?.maxImages ?? 16));
  selectModel();
  document.body.dataset.ready = 'true';
}
void init();
