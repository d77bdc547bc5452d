import type { ErrorObject, ValidateFunction } from "ajv";
import clusterSchema from "../../schemas/cluster.schema.json";
import accelerators from "../../schemas/ray-accelerators.json";
import rayLlmSchema from "../../schemas/ray-llm-config.schema.json";
import rayServeSchema from "../../schemas/ray-serve-config.schema.json";
import specSchema from "../../schemas/serving-spec.schema.json";
import usersSchema from "../../schemas/users.schema.json";
import * as validators from "./generated/schema-validators.js";

// The tool's own copies of schemas/: bundled into the CLI and the Action, so a --repo with edited or
// missing schemas is still checked by the rules this version of the tool enforces. The validators are
// compiled by ajv at build time (generator/scripts/generate-validators.mjs): a process starts without
// compiling schemas, and schemas.test.ts fails when the generated module is stale.

export type SchemaName = "serving-spec" | "users" | "cluster" | "ray-serve-config" | "ray-llm-config";

const VALIDATORS: Record<SchemaName, ValidateFunction> = {
  "serving-spec": validators.serving_spec,
  users: validators.users,
  cluster: validators.cluster,
  "ray-serve-config": validators.ray_serve_config,
  "ray-llm-config": validators.ray_llm_config,
};

/** Validate a value; returns ajv's errors (empty when valid). */
export function schemaErrors(name: SchemaName, value: unknown): ErrorObject[] {
  const validate = VALIDATORS[name];
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
/** Ray Serve LLM rewrites these names before its check ("A10" -> "A10G"), so they are accepted as written. */
const ACCELERATOR_ALIASES: Readonly<Record<string, string>> = accelerators.aliases;
export const isKnownAccelerator = (name: string): boolean =>
  KNOWN_ACCELERATORS.has(name) ||
  (Object.hasOwn(ACCELERATOR_ALIASES, name) && KNOWN_ACCELERATORS.has(ACCELERATOR_ALIASES[name]!));
export const knownAccelerators = (): string[] => [...KNOWN_ACCELERATORS];
