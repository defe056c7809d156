// The web app's page: markup and styles in one document, the behaviour in client/app.ts (compiled
// by tsc, served as /app.js). No build step beyond tsc, nothing from a CDN.
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ctfgen — coarse-to-fine image generation</title>
<style>
  :root { --fg: #1d2330; --muted: #5d6675; --line: #d8dde5; --accent: #2457c5; --bg: #f6f7f9; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
  header { padding: 14px 20px; background: #fff; border-bottom: 1px solid var(--line); }
  header h1 { margin: 0; font-size: 20px; }
  header p { margin: 2px 0 0; color: var(--muted); font-size: 13px; }
  main { display: grid; grid-template-columns: minmax(240px, 300px) 1fr; gap: 18px; padding: 18px 20px; }
  @media (max-width: 700px) { main { grid-template-columns: 1fr; padding: 12px; } }
  form { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px; align-self: start; }
  label { display: block; margin: 10px 0 2px; font-size: 13px; color: var(--muted); }
  label output { float: right; color: var(--fg); font-variant-numeric: tabular-nums; }
  select, input[type=number] { width: 100%; padding: 6px; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
  input[type=range] { width: 100%; }
  button, a.button { display: inline-block; padding: 7px 12px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent);
    color: #fff; font: inherit; cursor: pointer; text-decoration: none; }
  button.secondary, a.button.secondary { background: #fff; color: var(--accent); }
  button:disabled { opacity: .5; cursor: default; }
  button:focus-visible, a:focus-visible, canvas:focus-visible, select:focus-visible, input:focus-visible { outline: 3px solid #f0a020; outline-offset: 2px; }
  #generate { width: 100%; margin-top: 14px; font-size: 16px; }
  progress { width: 100%; height: 10px; margin-top: 10px; }
  #status { min-height: 1.4em; font-size: 13px; color: var(--muted); margin: 4px 0 0; }
  #gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(290px, 1fr)); gap: 14px; align-content: start; }
  .card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 10px; margin: 0; }
  .pair { display: flex; gap: 8px; align-items: flex-start; }
  .view { position: relative; flex: 1; min-width: 0; }
  .view img, .view canvas { width: 100%; aspect-ratio: 1; image-rendering: pixelated; display: block; border-radius: 4px; background: #000; }
  .view .cap { font-size: 11px; color: var(--muted); text-align: center; }
  .region { position: absolute; border: 2px dashed #f0a020; background: rgba(240, 160, 32, .18); pointer-events: none; display: none; }
  .editing .view.image { cursor: crosshair; }
  figcaption { margin: 6px 0; font-weight: 600; }
  .actions { display: flex; flex-wrap: wrap; gap: 6px; }
  .editor { display: none; margin-top: 8px; padding: 8px; border: 1px dashed var(--line); border-radius: 8px; }
  .editing .editor { display: block; }
  .editor .coords { display: grid; grid-template-columns: repeat(4, 1fr); gap: 4px; }
  .editor label { margin: 4px 0 0; }
  .legend { position: fixed; z-index: 10; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 6px; box-shadow: 0 4px 14px rgba(0,0,0,.15);
    font-size: 12px; display: none; max-width: 240px; }
  .legend img { display: block; width: 100%; image-rendering: pixelated; }
  .empty { color: var(--muted); }
</style>
</head>
<body>
<header>
  <h1>ctfgen</h1>
  <p>Class-conditional generation with coarse-to-fine token prediction: stage 1 draws a map of coarse labels, stage 2 fills in the fine tokens.</p>
</header>
<main>
  <form id="controls" aria-label="generation settings">
    <label for="model">Model</label>
    <select id="model"></select>
    <label for="cls">Class</label>
    <select id="cls"></select>
    <label for="n">Images <output for="n" id="n-out"></output></label>
    <input id="n" type="range" min="1" max="16" step="1" value="4">
    <label for="cfg">Guidance (CFG) <output for="cfg" id="cfg-out"></output></label>
    <input id="cfg" type="range" min="1" max="6" step="0.25">
    <label for="t1">Stage-1 temperature τ1 <output for="t1" id="t1-out"></output></label>
    <input id="t1" type="range" min="0.1" max="2" step="0.05">
    <label for="t2">Stage-2 temperature τ2 <output for="t2" id="t2-out"></output></label>
    <input id="t2" type="range" min="0.1" max="2" step="0.05">
    <label for="topk">Top-k (0 = all) <output for="topk" id="topk-out"></output></label>
    <input id="topk" type="range" min="0" max="200" step="1">
    <label for="topp">Top-p <output for="topp" id="topp-out"></output></label>
    <input id="topp" type="range" min="0.05" max="1" step="0.05">
    <label for="seed">Seed</label>
    <input id="seed" type="number" min="0" step="1" value="0">
    <button id="generate" type="submit">Generate</button>
    <progress id="progress" max="1" value="0" aria-label="generation progress"></progress>
    <p id="status" role="status"></p>
  </form>
  <section id="gallery" aria-live="polite" aria-label="generated images"><p class="empty">Pick a class and press Generate.</p></section>
</main>
<div class="legend" id="legend" role="tooltip"></div>
<script type="module" src="/app.js"></script>
</body>
</html>
`;
