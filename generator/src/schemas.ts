import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020";
import clusterSchema from "../../schemas/cluster.schema.json";
import accelerators from "../../schemas/ray-accelerators.json";
import rayLlmSchema from "../../schemas/ray-llm-config.schema.json";
import rayServeSchema from "../../schemas/ray-serve-config.schema.json";
import specSchema from "../../schemas/serving-spec.schema.json";
import usersSchema from "../../schemas/users.schema.json";

// The tool's own copies of schemas/: bundled into the CLI and the Action, so a --repo with edited or
// missing schemas is still checked by the rules this version of the tool enforces.

let ajv: Ajv2020 | undefined;
const compiled = new Map<object, ValidateFunction>();

function compile(schema: object): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    // Compile each schema once, on first use: `validate` of a repo without clusters never pays for Ray's.
    ajv ??= new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

export type SchemaName = "serving-spec" | "users" | "cluster" | "ray-serve-config" | "ray-llm-config";

const SCHEMAS: Record<SchemaName, object> = {
  "serving-spec": specSchema,
  users: usersSchema,
  cluster: clusterSchema,
  "ray-serve-config": rayServeSchema,
  "ray-llm-config": rayLlmSchema,
};

/** Validate a value; returns ajv's errors (empty when valid). */
export function schemaErrors(name: SchemaName, value: unknown): ErrorObject[] {
  const validate = compile(SCHEMAS[name]);
  return validate(value) ? [] : [...(validate.errors ?? [])];
}

export const SCHEMA_IDS: Record<SchemaName, string> = {
  "serving-spec": specSchema.$id,
  users: usersSchema.$id,
  cluster: clusterSchema.$id,
  "ray-serve-config": rayServeSchema.$id,
  "ray-llm-config": rayLlmSchema.$id,
};

const KNOWN_ACCELERATORS = new Set<string>(accelerators.accelerators);
export const isKnownAccelerator = (name: string): boolean => KNOWN_ACCELERATORS.has(name);
export const knownAccelerators = (): string[] => [...KNOWN_ACCELERATORS];
