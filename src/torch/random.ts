// Seeding and saving the global libtorch generator (every random op draws from it).
import { N } from './native.js';

export const manualSeed = (seed: number): void => N.manualSeed(seed);
/** Full generator state; restoring it replays the same random stream (exact resume). */
export const getRngState = (): Uint8Array => N.getRngState();
export const setRngState = (state: Uint8Array): void => N.setRngState(state);
