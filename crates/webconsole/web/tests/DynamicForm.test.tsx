import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/react";
import { DynamicForm } from "../src/forms/DynamicForm";
import { schemaForConfig, defaultsOf } from "../src/forms/schema";

describe("DynamicForm", () => {
  it("renders booleans as labelled switches and reports the new values", () => {
    const schema = schemaForConfig({ config: { custom: { pgpu_enable: false, vgpu_enable: false } } });
    const onChange = vi.fn();
    render(<DynamicForm schema={schema} value={defaultsOf(schema)} onChange={onChange} />);
    const pgpu = screen.getByRole("switch", { name: /pgpu_enable/ });
    fireEvent.click(pgpu);
    expect(onChange).toHaveBeenLastCalledWith({ custom: { pgpu_enable: true, vgpu_enable: false } }, true);
  });

  it("shows an invalid value's error next to its field", async () => {
    const schema = schemaForConfig({
      config: { replicas: 1 },
      configSchema: { type: "object", properties: { replicas: { type: "integer", minimum: 1, title: "replicas" } } },
    });
    const onChange = vi.fn();
    const { container } = render(<DynamicForm schema={schema} value={{ replicas: 1 }} onChange={onChange} />);
    const input = screen.getByLabelText(/replicas/);
    fireEvent.change(input, { target: { value: "0" } });
    const field = container.querySelector("#root_replicas")!.closest(".form-group")!;
    expect(field.textContent).toMatch(/must be >= 1/);
    expect(onChange).toHaveBeenLastCalledWith({ replicas: 0 }, false);
  });

  it("keeps the YAML view in sync with the form, both ways", () => {
    const schema = schemaForConfig({ config: { custom: { mps_enable: false } } });
    const onChange = vi.fn();
    render(<DynamicForm schema={schema} value={defaultsOf(schema)} onChange={onChange} />);
    fireEvent.click(screen.getByRole("switch", { name: /mps_enable/ }));
    fireEvent.click(screen.getByRole("button", { name: "YAML" }));
    const yaml = screen.getByLabelText("Configuration as YAML") as HTMLTextAreaElement;
    expect(yaml.value).toContain("mps_enable: true");
    fireEvent.change(yaml, { target: { value: "custom:\n  mps_enable: nope\n" } });
    expect(onChange).toHaveBeenLastCalledWith({ custom: { mps_enable: "nope" } }, false);
    expect(screen.getByText(/must be boolean/)).toBeTruthy();
  });
});
