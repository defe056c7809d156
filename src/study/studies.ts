// The studies `npm run study` and `ctfgen report` know, by name.
import type { StudyConfig } from './config.js';
import { EMOJI_STUDY } from './emoji.js';
import { FASHION_MNIST_STUDY } from './fashion-mnist.js';

export const STUDIES: Record<string, StudyConfig> = { [FASHION_MNIST_STUDY.name]: FASHION_MNIST_STUDY, [EMOJI_STUDY.name]: EMOJI_STUDY };

export function studyConfig(name: string): StudyConfig {
  const c = STUDIES[name];
  if (!c) throw new Error(`unknown study '${name}' (use ${Object.keys(STUDIES).join(', ')})`);
  return c;
}
