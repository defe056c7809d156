// Generates four Fashion-MNIST images with the model that ships inside the package and writes them
// side by side as one PNG. Run it from a project that installed ctfgen:
//   node node_modules/ctfgen/examples/generate.mjs [out.png]
import { writeFileSync } from 'node:fs';
import { encodePNG, imageGrid, loadGenerator, shippedRun } from 'ctfgen';

const out = process.argv[2] ?? 'generated.png';
const generator = await loadGenerator(shippedRun('ctf'));
try {
  const classes = ['Sneaker', 'Bag', 'Dress', 'Trouser'];
  const { images, timings } = await generator.generate({
    classes,
    seed: 0,
    onProgress: process.stderr.isTTY ? (p) => process.stderr.write(`\r${p.stage} ${p.done}/${p.total}   `) : undefined,
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  writeFileSync(out, encodePNG(imageGrid(images, { cols: images.length, scale: 4 })));
  console.log(`${out}: ${classes.join(', ')} (${generator.kind}, ${timings.total.toFixed(2)} s)`);
} finally {
  await generator.dispose();
}
