export { Module, loadWeights, nonFiniteTensors, type LoadOptions } from './module.js';
export { Linear, Embedding, Conv2d, GroupNorm, RMSNorm } from './layers.js';
export { AdamW, decayGroups, type ParamGroup, type AdamWOptions } from './adamw.js';
