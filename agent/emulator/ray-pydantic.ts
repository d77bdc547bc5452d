/**
 * TEST/DEMO ONLY. A tiny re-creation of pydantic v1 validation (the semantics Ray Serve's
 * schema.py models have through ray._common.pydantic_compat), used by ray-schema.ts for the Ray
 * Serve dashboard emulator: non-strict coercions (numbers to str, numeric strings to int/float,
 * ...), "none is not an allowed value" for non-Optional fields, errors accumulated with their
 * `loc`, field validators run only when the type coercion succeeded, post root validators run even
 * when fields failed (no skip_on_failure), `.dict(exclude_unset=True)` dumps in field order.
 */
import { type PydanticV1Error, PyRaw, isRecord } from "./ray-pyrepr";

export type Loc = (string | number)[];
export const FAIL = Symbol("fail");
export type Out<T> = T | typeof FAIL;
export type Coerce = (v: unknown, loc: Loc, errs: PydanticV1Error[]) => Out<unknown>;

/** A ValueError / TypeError raised by a validator function. */
export class PyError extends Error {
  constructor(
    readonly kind: "value_error" | "type_error",
    msg: string,
  ) {
    super(msg);
  }
}
export const valueError = (msg: string) => new PyError("value_error", msg);

export function err(
  errs: PydanticV1Error[],
  loc: Loc,
  msg: string,
  type: string,
  ctx?: Record<string, unknown>,
): typeof FAIL {
  errs.push(ctx ? { loc, msg, type, ctx } : { loc, msg, type });
  return FAIL;
}

// ---- scalar coercions (pydantic v1 non-strict semantics) ----
export const str: Coerce = (v, loc, errs) => {
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "boolean") return v ? "True" : "False";
  return err(errs, loc, "str type expected", "type_error.str");
};
export const int: Coerce = (v, loc, errs) => {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number" && Number.isFinite(v)) return Math.trunc(v);
  // Python int(str): surrounding whitespace, a sign, and "_" between digits ("1_000")
  if (typeof v === "string" && /^\s*[-+]?\d(?:_?\d)*\s*$/.test(v)) return parseInt(v.replace(/_/g, ""), 10);
  return err(errs, loc, "value is not a valid integer", "type_error.integer");
};
export const strictInt: Coerce = (v, loc, errs) =>
  typeof v === "number" && Number.isInteger(v)
    ? v
    : err(errs, loc, "value is not a valid integer", "type_error.integer");
export const float: Coerce = (v, loc, errs) => {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const n = pyFloatFromStr(v);
    if (n !== null) return n;
  }
  return err(errs, loc, "value is not a valid float", "type_error.float");
};
/**
 * Python's float(str) (pydantic v1 float_validator calls float(v)): decimal literals with "_"
 * between digits, "inf"/"infinity"/"nan" in any case, surrounding whitespace; unlike JS Number(),
 * no "0x10"/"0b1"/"0o7" prefixes (and "inf" is accepted). null where Python raises ValueError.
 */
export function pyFloatFromStr(s: string): number | null {
  const t = s.trim();
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(t);
  if (special) {
    if (special[2]?.toLowerCase() === "nan") return NaN;
    return special[1] === "-" ? -Infinity : Infinity;
  }
  const digits = "\\d(?:_?\\d)*";
  const re = new RegExp(`^[+-]?(?:(?:${digits})?\\.${digits}|${digits}\\.?)(?:[eE][+-]?${digits})?$`);
  return re.test(t) ? Number(t.replace(/_/g, "")) : null;
}
export const bool: Coerce = (v, loc, errs) => {
  if (typeof v === "boolean") return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === "string") {
    const s = v.toLowerCase();
    if (["1", "on", "t", "true", "y", "yes"].includes(s)) return true;
    if (["0", "off", "f", "false", "n", "no"].includes(s)) return false;
  }
  return err(errs, loc, "value could not be parsed to a boolean", "type_error.bool");
};
/**
 * pydantic v1 dict_validator: a dict as is, else `dict(v)`: so `[]` and `""` give {}, and a list of
 * pairs (2-item lists, or 2-character strings) gives a dict; anything else is "value is not a valid
 * dict". Keys are rendered as json.dumps would (str(int), "true", "null").
 */
export const dict: Coerce = (v, loc, errs) => {
  if (isRecord(v)) return v;
  if (v === "") return {};
  if (Array.isArray(v)) {
    const out: Record<string, unknown> = {};
    for (const item of v as unknown[]) {
      const pair: unknown = typeof item === "string" ? [...item] : item;
      if (!Array.isArray(pair) || pair.length !== 2)
        return err(errs, loc, "value is not a valid dict", "type_error.dict");
      const [k, val] = pair as unknown[];
      // an unhashable key (list, dict) is a TypeError in dict()
      if (typeof k === "object" && k !== null)
        return err(errs, loc, "value is not a valid dict", "type_error.dict");
      out[typeof k === "string" ? k : JSON.stringify(k)] = val;
    }
    return out;
  }
  return err(errs, loc, "value is not a valid dict", "type_error.dict");
};

/** Dict[K, V] (pydantic v1 ModelField shape DICT): dict_validator, then each key and value, loc [..., key]. */
export function dictOf(key: Coerce, value: Coerce): Coerce {
  return (v, loc, errs) => {
    const d = dict(v, loc, errs);
    if (d === FAIL) return d;
    const out: Record<string, unknown> = {};
    let failed = false;
    for (const [k, x] of Object.entries(d as Record<string, unknown>)) {
      const kk = key(k, [...loc, "__key__"], errs);
      const vv = value(x, [...loc, k], errs);
      if (kk === FAIL || vv === FAIL) failed = true;
      else out[kk as string] = vv;
    }
    return failed ? FAIL : out;
  };
}

/** Any: every value passes as is. */
export const any: Coerce = (v) => v;

export function list(item: Coerce): Coerce {
  return (v, loc, errs) => {
    if (!Array.isArray(v)) return err(errs, loc, "value is not a valid list", "type_error.list");
    const out: unknown[] = [];
    let failed = false;
    v.forEach((x, i) => {
      const r = item(x, [...loc, i], errs);
      if (r === FAIL) failed = true;
      else out.push(r);
    });
    return failed ? FAIL : out;
  };
}

export function bounded(base: Coerce, b: { gt?: number; ge?: number; le?: number }): Coerce {
  return (v, loc, errs) => {
    const r = base(v, loc, errs);
    if (r === FAIL) return r;
    const n = r as number;
    if (b.gt !== undefined && !(n > b.gt))
      return err(errs, loc, `ensure this value is greater than ${b.gt}`, "value_error.number.not_gt", {
        limit_value: b.gt,
      });
    if (b.ge !== undefined && !(n >= b.ge))
      return err(
        errs,
        loc,
        `ensure this value is greater than or equal to ${b.ge}`,
        "value_error.number.not_ge",
        {
          limit_value: b.ge,
        },
      );
    if (b.le !== undefined && !(n <= b.le))
      return err(
        errs,
        loc,
        `ensure this value is less than or equal to ${b.le}`,
        "value_error.number.not_le",
        {
          limit_value: b.le,
        },
      );
    return n;
  };
}

/** Union[A, B]: first that validates; otherwise the errors of every member. */
export function union(...members: Coerce[]): Coerce {
  return (v, loc, errs) => {
    const all: PydanticV1Error[] = [];
    for (const m of members) {
      const mine: PydanticV1Error[] = [];
      const r = m(v, loc, mine);
      if (r !== FAIL) return r;
      all.push(...mine);
    }
    errs.push(...all);
    return FAIL;
  };
}

export function enumOf(name: string, values: string[]): Coerce {
  return (v, loc, errs) =>
    typeof v === "string" && values.includes(v)
      ? v
      : err(
          errs,
          loc,
          `value is not a valid enumeration member; permitted: ${values.map((x) => `'${x}'`).join(", ")}`,
          "type_error.enum",
          { enum_values: new PyRaw(`[${values.map((x) => `<${name}.${x}: '${x}'>`).join(", ")}]`) },
        );
}

// ---- models ----
export interface Field {
  name: string;
  type: Coerce;
  required?: boolean;
  nullable?: boolean; // Optional[...] or default None
  /** validators get the value and the fields validated before this one (pydantic v1 `values`) */
  validators?: ((v: unknown, values: Record<string, unknown>) => unknown)[];
  /** `@validator(..., always=True)`: when the field is not given, validate `default` (not dumped) */
  always?: { default: unknown };
}
export interface ModelSpec {
  fields: Field[];
  forbidExtra?: boolean;
  /** post root validators, each given the successfully validated values (v1 semantics) */
  roots?: ((values: Record<string, unknown>) => void)[];
}
/** Result of a model: `dump` is `.dict(exclude_unset=True)`; `values` is every validated field. */
export interface ModelOut {
  dump: Record<string, unknown>;
  values: Record<string, unknown>;
}

export function model(spec: ModelSpec): Coerce {
  return (given, loc, errs) => {
    // BaseModel.validate (pydantic v1): a non-dict goes through dict(value) first, like dict_validator
    const v = dict(given, loc, errs);
    if (!isRecord(v)) return FAIL;
    const dump: Record<string, unknown> = {};
    const values: Record<string, unknown> = {};
    let failed = false;
    for (const f of spec.fields) {
      const floc = [...loc, f.name];
      if (!(f.name in v) && f.always === undefined) {
        if (f.required) failed = err(errs, floc, "field required", "value_error.missing") === FAIL;
        continue;
      }
      const isSet = f.name in v;
      const raw = isSet ? v[f.name] : f.always?.default;
      let r: Out<unknown>;
      if (raw === null) {
        r = f.nullable
          ? null
          : err(errs, floc, "none is not an allowed value", "type_error.none.not_allowed");
      } else {
        r = f.type(raw, floc, errs);
        if (r !== FAIL) {
          for (const fn of f.validators ?? []) {
            try {
              r = fn(r, values);
            } catch (e) {
              if (!(e instanceof PyError)) throw e;
              r = err(errs, floc, e.message, e.kind);
              break;
            }
          }
        }
      }
      if (r === FAIL) {
        failed = true;
        continue;
      }
      values[f.name] = isModelOut(r) ? r.values : r;
      if (!isSet) continue;
      dump[f.name] = isModelOut(r)
        ? r.dump
        : Array.isArray(r)
          ? (r as unknown[]).map((x) => (isModelOut(x) ? x.dump : x))
          : r;
      if (Array.isArray(r)) values[f.name] = (r as unknown[]).map((x) => (isModelOut(x) ? x.values : x));
    }
    if (spec.forbidExtra) {
      const known = new Set(spec.fields.map((f) => f.name));
      for (const k of Object.keys(v))
        if (!known.has(k))
          failed = err(errs, [...loc, k], "extra fields not permitted", "value_error.extra") === FAIL;
    }
    for (const root of spec.roots ?? []) {
      try {
        root(values);
      } catch (e) {
        if (!(e instanceof PyError)) throw e;
        failed = err(errs, [...loc, "__root__"], e.message, e.kind) === FAIL;
      }
    }
    const out: ModelOut & { [MODEL]: true } = { [MODEL]: true, dump, values };
    return failed ? FAIL : out;
  };
}
export const MODEL = Symbol("model");
export function isModelOut(v: unknown): v is ModelOut {
  return typeof v === "object" && v !== null && MODEL in v;
}
