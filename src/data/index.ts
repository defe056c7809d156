/** Datasets, augmentation and batching: pure TypeScript, typed arrays out. */

export * from './dataset.js';
export * from './rng.js';
export * from './transforms.js';
export * from './loader.js';
export * from './idx.js';
export * from './decode.js';
export * from './fashion-mnist.js';
export * from './image-folder.js';
export * from './emoji.js';
export * from './fixture.js';
export * from './open.js';
