// A child process for the readers' memory bounds: `node read-file.js <reader> <path>` reads one
// file with one of ctfgen's readers and prints the outcome (the error's message, or "ok"). Each
// reader's modules are imported on demand, so the process holds only what that reader needs.
export const READERS = {
  safetensors: async (p: string) => (await import('../../src/io/index.js')).readSafetensors(p),
  torch: async (p: string) => (await import('../../src/io/index.js')).loadStateDict(p),
  idx: async (p: string) => (await import('../../src/data/idx.js')).readIdx(p),
  image: async (p: string) => (await import('../../src/data/decode.js')).loadImageFile(p),
  run: async (p: string) => new (await import('../../src/run/run-dir.js')).RunDir(p).readInfo(),
  metrics: async (p: string) => new (await import('../../src/train/metrics-log.js')).MetricsLog(p).read(),
  'token-cache': async (p: string) => (await import('../../src/data/token-cache.js')).loadTokenCache(p),
  clusters: async (p: string) => (await import('../../src/cluster/clusters.js')).loadClusters(p),
};
export type ReaderName = keyof typeof READERS;

const [reader, path] = process.argv.slice(2) as [ReaderName | undefined, string | undefined];
if (reader && path) {
  try {
    await READERS[reader](path);
    console.log('ok');
  } catch (e) {
    console.log((e as Error).message);
  }
}
