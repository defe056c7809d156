// Preloaded into a child process (node --import) by the hardening tests: prints the process's peak
// resident memory on exit, whichever way it exits, for the memory bounds the tests assert.
import { writeSync } from 'node:fs';

export const MAX_RSS_TAG = 'ctfgen-test-max-rss-kib=';

process.on('exit', () => {
  writeSync(2, `\n${MAX_RSS_TAG}${process.resourceUsage().maxRSS}\n`);
});
