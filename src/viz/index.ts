/** Pictures ctfgen shows people: an RGBA canvas with PNG output, a bitmap font, image grids and plots. */
export * from './canvas.js';
export * from './font.js';
export * from './image-grid.js';
export * from './plot.js';
export * from './label-map.js';
