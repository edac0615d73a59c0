// Checks a response against the served OpenAPI document: the status is listed for the operation,
// the content type is documented for it, and a JSON body validates against that schema.
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

type Json = Record<string, unknown>;
interface Operation {
  responses: Record<string, { content?: Record<string, { schema: Json }> }>;
}

export interface OpenApiChecker {
  /** Asserts that `res` is a documented answer of `method template`; returns the parsed body. */
  check(method: string, template: string, res: Response): Promise<{ status: number; body: unknown }>;
  operation(method: string, template: string): Operation | undefined;
}

export function openApiChecker(doc: Json): OpenApiChecker {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'https://apex.invalid/openapi.json', components: doc.components });
  const rewrite = (schema: unknown): Json =>
    JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"https://apex.invalid/openapi.json#/components/')) as Json;
  const operation = (method: string, template: string): Operation | undefined =>
    (doc.paths as Record<string, Record<string, Operation>>)[template]?.[method];
  return {
    operation,
    async check(method, template, res) {
      const op = operation(method, template);
      assert.ok(op, `${method} ${template} is in the document`);
      const text = await res.text();
      const declared = op.responses[String(res.status)];
      assert.ok(declared, `${method} ${template} answered ${res.status}, which the document does not list: ${text.slice(0, 300)}`);
      const type = (res.headers.get('content-type') ?? '').split(';')[0] ?? '';
      const media = declared.content?.[type];
      assert.ok(media, `${method} ${template} ${res.status}: content type ${type} is not documented`);
      let body: unknown = text;
      if (type.endsWith('json')) {
        body = JSON.parse(text);
        const validate = ajv.compile(rewrite(media.schema));
        assert.ok(
          validate(body),
          `${method} ${template} ${res.status} body matches the schema: ${ajv.errorsText(validate.errors)} in ${text.slice(0, 300)}`,
        );
      }
      return { status: res.status, body };
    },
  };
}
