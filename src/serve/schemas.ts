// JSON schemas of the HTTP API's requests. Fastify validates bodies against them (Ajv) before a
// handler runs; errors are turned into `{ error }` naming the field and its allowed range.
export const MAX_IMAGES = 64;
export const MAX_SEED = 2 ** 52;

const num = (minimum: number, maximum: number) => ({ type: 'number', minimum, maximum });
const int = (minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum });
const classRef = {
  anyOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', minLength: 1, maxLength: 100 },
  ],
};
const grid = {
  type: 'array',
  minItems: 1,
  maxItems: 64,
  items: { type: 'array', minItems: 1, maxItems: 64, items: { type: 'integer', minimum: 0 } },
};

const stage2 = {
  type: 'object',
  additionalProperties: false,
  properties: {
    temperature: num(0, 10),
    topK: int(0, 1_000_000),
    topP: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    restrict: { type: 'boolean' },
    cfg: num(0, 20),
  },
};

const sampling = {
  seed: int(0, MAX_SEED),
  cfg: num(0, 20),
  cfgSchedule: { type: 'string', enum: ['constant', 'linear'] },
  temperature: num(0, 10),
  topK: int(0, 1_000_000),
  topP: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
  stage2,
};

const model = { type: 'string', minLength: 1, maxLength: 200 };

export const generateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['model'],
  properties: {
    model,
    classes: { type: 'array', minItems: 1, maxItems: MAX_IMAGES, items: classRef },
    class: classRef,
    n: int(1, MAX_IMAGES),
    ...sampling,
  },
};

export const refineBody = {
  type: 'object',
  additionalProperties: false,
  required: ['model', 'class', 'coarse'],
  properties: { model, class: classRef, coarse: grid, seed: sampling.seed, stage2 },
};

export const editBody = {
  type: 'object',
  additionalProperties: false,
  required: ['model', 'class', 'region'],
  properties: {
    model,
    class: classRef,
    tokens: grid,
    coarse: grid,
    region: {
      type: 'object',
      additionalProperties: false,
      required: ['x0', 'y0', 'x1', 'y1'],
      properties: { x0: int(0, 64), y0: int(0, 64), x1: int(0, 64), y1: int(0, 64) },
    },
    ...sampling,
  },
};

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  parentSchema?: Record<string, unknown>;
  data?: unknown;
}

/** One Ajv error as a sentence that names the field and what it may be. */
export function describeValidationError(context: string, e: AjvError): string {
  const field = `${context === 'body' ? '' : `${context} `}${e.instancePath.replace(/^\//, '').replace(/\//g, '.') || context}`;
  const s = e.parentSchema ?? {};
  const got = e.data === undefined ? '' : `, got ${JSON.stringify(e.data)?.slice(0, 60)}`;
  if (
    ['minimum', 'maximum', 'exclusiveMinimum', 'type'].includes(e.keyword) &&
    (s.minimum !== undefined || s.exclusiveMinimum !== undefined)
  ) {
    const lo = s.minimum ?? s.exclusiveMinimum;
    const open = s.exclusiveMinimum !== undefined ? '(' : '[';
    return `${field} must be ${s.type === 'integer' ? 'an integer' : 'a number'} in ${open}${lo}, ${s.maximum ?? '∞'}]${got}`;
  }
  if (e.keyword === 'additionalProperties') return `${field} has an unknown field '${String(e.params.additionalProperty)}'`;
  if (e.keyword === 'required') return `${field} needs '${String(e.params.missingProperty)}'`;
  if (e.keyword === 'enum') return `${field} must be one of ${(e.params.allowedValues as unknown[]).join(', ')}${got}`;
  if (e.keyword === 'maxItems') return `${field} may hold at most ${String(e.params.limit)} entries`;
  if (e.keyword === 'anyOf') return `${field} must be a class id (integer ≥ 0) or a class name${got}`;
  return `${field} ${e.message ?? 'is invalid'}${got}`;
}
