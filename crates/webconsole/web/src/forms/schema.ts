// The dynamic-form generator for cluster plugins: the JSON Schema of a ModuleConfig's `spec.config`
// (its `spec.configSchema` when given, else inferred from the defaults), the UI schema (booleans as
// switches) and the values a ModuleInfo carries. Pure; react-jsonschema-form renders the result.
import type { RJSFSchema, UiSchema } from "@rjsf/utils";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A schema describing `value` (the ModuleConfig's defaults), with those values as defaults. */
export function inferSchema(value: Json, title?: string): RJSFSchema {
  const base: RJSFSchema = title ? { title } : {};
  if (value === null) return { ...base, type: "string" };
  if (typeof value === "boolean") return { ...base, type: "boolean", default: value };
  if (typeof value === "number") return { ...base, type: Number.isInteger(value) ? "integer" : "number", default: value };
  if (typeof value === "string") return { ...base, type: "string", default: value };
  if (Array.isArray(value)) {
    const item = value.length ? inferSchema(value[0]) : { type: "string" as const };
    return { ...base, type: "array", items: stripDefault(item), default: value };
  }
  const properties: Record<string, RJSFSchema> = {};
  for (const [k, v] of Object.entries(value)) properties[k] = inferSchema(v, k);
  return { ...base, type: "object", properties };
}

function stripDefault(s: RJSFSchema): RJSFSchema {
  const { default: _d, ...rest } = s;
  void _d;
  return rest;
}

/** Copies the defaults in `defaults` into `schema` where the schema has none. */
export function withDefaults(schema: RJSFSchema, defaults: Json | undefined): RJSFSchema {
  if (defaults === undefined || defaults === null) return schema;
  if (schema.type === "object" && typeof defaults === "object" && !Array.isArray(defaults)) {
    const props: Record<string, RJSFSchema> = {};
    for (const [k, s] of Object.entries(schema.properties ?? {})) {
      props[k] = typeof s === "object" ? withDefaults(s as RJSFSchema, (defaults as Record<string, Json>)[k]) : (s as unknown as RJSFSchema);
    }
    return { ...schema, properties: props };
  }
  return schema.default === undefined ? { ...schema, default: defaults } : schema;
}

/** The form's schema for a ModuleConfig spec (configSchema wins; defaults from config). */
export function schemaForConfig(spec: { config?: Json; configSchema?: RJSFSchema } | undefined): RJSFSchema {
  const config = (spec?.config ?? {}) as Json;
  if (spec?.configSchema && typeof spec.configSchema === "object") {
    return withDefaults(spec.configSchema, config);
  }
  return inferSchema(config);
}

/** True when the form has nothing to ask (the plugin needs no configuration). */
export function isEmptyForm(schema: RJSFSchema): boolean {
  return schema.type === "object" && Object.keys(schema.properties ?? {}).length === 0;
}

/** Booleans render as switches; every other field with rjsf's default widget. */
export function uiSchemaFor(schema: RJSFSchema): UiSchema {
  // The switch carries its own label; rjsf's field label would repeat it.
  if (schema.type === "boolean") return { "ui:widget": "switch", "ui:label": false };
  if (schema.type === "object" && schema.properties) {
    const ui: UiSchema = {};
    for (const [k, s] of Object.entries(schema.properties)) {
      if (typeof s === "object") {
        const sub = uiSchemaFor(s as RJSFSchema);
        if (Object.keys(sub).length) ui[k] = sub;
      }
    }
    return ui;
  }
  return {};
}

/** The defaults of a schema as a value (what the form starts with). */
export function defaultsOf(schema: RJSFSchema): Json {
  if (schema.type === "object") {
    const out: Record<string, Json> = {};
    for (const [k, s] of Object.entries(schema.properties ?? {})) {
      if (typeof s !== "object") continue;
      const v = defaultsOf(s as RJSFSchema);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  return (schema.default as Json) ?? (undefined as unknown as Json);
}
