// Validates request and response bodies against Qdrant's official OpenAPI document (1.19), so the
// Qdrant Edge front (through its checking proxy) and the contract stub can prove that the adapter
// speaks the real wire format and that the answers are ones a real server could give. The document
// is optional: QDRANT_OPENAPI, else <repo>/../shared/contracts/qdrant-openapi-1.19.json. When it is
// missing, contract checking is OFF, the test output says so once, and nothing fails for that.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

export const QDRANT_OPENAPI_PATH =
  process.env.QDRANT_OPENAPI || fileURLToPath(new URL('../../../shared/contracts/qdrant-openapi-1.19.json', import.meta.url));
const DOC_ID = 'qdrant-openapi.json';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * OpenAPI 3.0 `nullable` is not JSON Schema: rewrite it to a null type so ajv checks it exactly
 * (a bare `{nullable: true}` inside anyOf means "or null").
 */
function normalize(node: Json): Json {
  if (Array.isArray(node)) return node.map(normalize);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'example' || k === 'nullable') continue;
    out[k] = normalize(v);
  }
  if (node.nullable !== true) return out;
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    return out;
  }
  const constraining = ['$ref', 'anyOf', 'oneOf', 'allOf', 'properties', 'items', 'enum'].some((k) => k in out);
  if (!constraining) return { ...out, type: 'null' };
  const { description, default: dflt, ...rest } = out;
  return {
    ...(description !== undefined ? { description } : {}),
    ...(dflt !== undefined ? { default: dflt } : {}),
    anyOf: [rest, { type: 'null' }],
  };
}

/** Points local refs (#/components/...) of an inline operation schema at the loaded document. */
function rebase(node: Json): Json {
  if (Array.isArray(node)) return node.map(rebase);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node))
    out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${DOC_ID}${v}` : rebase(v);
  return out;
}

const INTEGER_RANGES: Record<string, [number, number]> = {
  uint: [0, Number.MAX_SAFE_INTEGER],
  uint8: [0, 255],
  uint32: [0, 4294967295],
  uint64: [0, Number.MAX_SAFE_INTEGER],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

export interface QdrantContract {
  /** Error messages; empty when `body` is a valid request body of the operation. */
  checkRequest(method: string, pathTemplate: string, body: unknown): string[];
  /** Error messages; empty when `body` is a valid response of the operation for `status`. */
  checkResponse(method: string, pathTemplate: string, status: number, body: unknown): string[];
}

export function loadQdrantContract(path: string = QDRANT_OPENAPI_PATH): QdrantContract {
  const doc = normalize(JSON.parse(readFileSync(path, 'utf8')) as Json);
  if (!isObject(doc) || !isObject(doc.paths)) throw new Error(`${path} is not an OpenAPI document`);
  const paths = doc.paths;
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  for (const [name, [min, max]] of Object.entries(INTEGER_RANGES)) {
    ajv.addFormat(name, { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= min && n <= max });
  }
  for (const name of ['float', 'double']) ajv.addFormat(name, { type: 'number', validate: (n: number) => Number.isFinite(n) });
  for (const name of ['partial-date-time', 'binary']) ajv.addFormat(name, true);
  ajv.addSchema({ $id: DOC_ID, components: doc.components ?? {} });

  const cache = new Map<string, ValidateFunction | null>();
  const validatorFor = (key: string, schema: () => Json | undefined): ValidateFunction | null => {
    if (!cache.has(key)) {
      const s = schema();
      cache.set(key, s === undefined ? null : ajv.compile(rebase(s) as object));
    }
    return cache.get(key) ?? null;
  };
  const operation = (method: string, template: string): JsonObject => {
    const item = paths[template];
    const op = isObject(item) ? item[method.toLowerCase()] : undefined;
    if (!isObject(op)) throw new Error(`the contract has no operation ${method} ${template}`);
    return op;
  };
  const jsonSchemaOf = (holder: Json | undefined): Json | undefined => {
    if (!isObject(holder) || !isObject(holder.content)) return undefined;
    const media = holder.content['application/json'];
    return isObject(media) ? media.schema : undefined;
  };
  const run = (validate: ValidateFunction | null, body: unknown, what: string): string[] => {
    if (!validate) return body === undefined ? [] : [`${what}: the contract defines no JSON body`];
    return validate(body)
      ? []
      : (validate.errors ?? []).map((e) => `${what}: ${e.instancePath || '/'} ${e.message ?? 'invalid'} ${JSON.stringify(e.params)}`);
  };

  return {
    checkRequest(method, template, body) {
      const validate = validatorFor(`req ${method} ${template}`, () => jsonSchemaOf(operation(method, template).requestBody));
      return run(validate, body, `request ${method} ${template}`);
    },
    checkResponse(method, template, status, body) {
      const responses = operation(method, template).responses;
      const key = status === 200 ? '200' : status >= 400 && status < 500 ? '4XX' : 'default';
      const validate = validatorFor(`res ${method} ${template} ${key}`, () =>
        isObject(responses) ? jsonSchemaOf(responses[key]) : undefined,
      );
      return run(validate, body, `response ${status} to ${method} ${template}`);
    },
  };
}

let announced = false;
let cached: QdrantContract | null | undefined;

/**
 * The contract when its document exists, else undefined. Says once per process, in the test
 * output, whether contract checking is on or off: a run without it must not look like one
 * with it.
 */
export function optionalQdrantContract(path: string = QDRANT_OPENAPI_PATH): QdrantContract | undefined {
  if (path !== QDRANT_OPENAPI_PATH) return existsSync(path) ? loadQdrantContract(path) : undefined;
  if (cached === undefined) cached = existsSync(path) ? loadQdrantContract(path) : null;
  if (!announced) {
    announced = true;
    const line = cached
      ? `Qdrant contract checking: ON (${path})`
      : `Qdrant contract checking: OFF (no OpenAPI document at ${path}; set QDRANT_OPENAPI to turn it on)`;
    // stdout of a test file shows in the runner's output (spec reporter) next to its tests.
    process.stdout.write(`${line}\n`);
  }
  return cached ?? undefined;
}

/** The reason a contract-only test is skipped, or false when the contract is there. */
export function contractSkipReason(): string | false {
  return optionalQdrantContract() ? false : `Qdrant OpenAPI document not found at ${QDRANT_OPENAPI_PATH}: contract checking is off`;
}
