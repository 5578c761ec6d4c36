import { describe, expect, it } from "vitest";
import { defaultsOf, inferSchema, isEmptyForm, schemaForConfig, uiSchemaFor } from "../src/forms/schema";

describe("form generator", () => {
  it("infers a schema from the ModuleConfig defaults (gpu-device-plugin's three switches)", () => {
    const s = schemaForConfig({ config: { custom: { mps_enable: false, pgpu_enable: false, vgpu_enable: false } } });
    expect(s.type).toBe("object");
    const custom = (s.properties as any).custom;
    expect(custom.type).toBe("object");
    expect(Object.keys(custom.properties)).toEqual(["mps_enable", "pgpu_enable", "vgpu_enable"]);
    expect(custom.properties.pgpu_enable).toMatchObject({ type: "boolean", default: false });
    expect(uiSchemaFor(s)).toEqual({
      custom: {
        mps_enable: { "ui:widget": "switch", "ui:label": false },
        pgpu_enable: { "ui:widget": "switch", "ui:label": false },
        vgpu_enable: { "ui:widget": "switch", "ui:label": false },
      },
    });
    expect(defaultsOf(s)).toEqual({ custom: { mps_enable: false, pgpu_enable: false, vgpu_enable: false } });
  });

  it("types numbers, strings and arrays", () => {
    expect(inferSchema(3)).toMatchObject({ type: "integer", default: 3 });
    expect(inferSchema(0.5)).toMatchObject({ type: "number" });
    expect(inferSchema("es")).toMatchObject({ type: "string", default: "es" });
    expect(inferSchema(["a"])).toMatchObject({ type: "array", items: { type: "string" } });
  });

  it("prefers spec.configSchema and fills its defaults from spec.config", () => {
    const s = schemaForConfig({
      config: { storage: "elasticsearch", replicas: 2 },
      configSchema: {
        type: "object",
        properties: {
          storage: { type: "string", enum: ["elasticsearch", "clickhouse"] },
          replicas: { type: "integer", minimum: 1, default: 1 },
        },
      },
    });
    expect((s.properties as any).storage).toMatchObject({ enum: ["elasticsearch", "clickhouse"], default: "elasticsearch" });
    // A default the schema states itself wins over the config's value.
    expect((s.properties as any).replicas.default).toBe(1);
  });

  it("says when a plugin needs no configuration", () => {
    expect(isEmptyForm(schemaForConfig({ config: {} }))).toBe(true);
    expect(isEmptyForm(schemaForConfig(undefined))).toBe(true);
    expect(isEmptyForm(schemaForConfig({ config: { a: 1 } }))).toBe(false);
  });
});
