// Short content ids (first 12 hex digits of sha256) that tie derived files to what made them:
// a token cache or cluster file names the codebook it came from.
import { createHash } from 'node:crypto';

export function contentId(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 12);
}
