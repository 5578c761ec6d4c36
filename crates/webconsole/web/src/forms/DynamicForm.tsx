// A plugin's dynamic form: react-jsonschema-form over the generated schema, booleans as PatternFly
// switches, field errors shown under their field as the user types, and a YAML view of the same
// values (editing either side updates the other).
import { useMemo, useState } from "react";
import Form from "@rjsf/core";
import validator from "@rjsf/validator-ajv8";
import type { RJSFSchema, RJSFValidationError, WidgetProps } from "@rjsf/utils";
import { Switch, ToggleGroup, ToggleGroupItem, TextArea, HelperText, HelperTextItem } from "@patternfly/react-core";
import YAML from "yaml";
import { uiSchemaFor } from "./schema";

function SwitchWidget(props: WidgetProps) {
  return (
    <Switch
      id={props.id}
      label={props.label}
      isChecked={!!props.value}
      isDisabled={props.disabled || props.readonly}
      onChange={(_e, checked) => props.onChange(checked)}
    />
  );
}

export interface DynamicFormProps {
  schema: RJSFSchema;
  value: unknown;
  onChange: (value: unknown, valid: boolean) => void;
}

export function DynamicForm({ schema, value, onChange }: DynamicFormProps) {
  const [view, setView] = useState<"form" | "yaml">("form");
  const [yamlText, setYamlText] = useState(() => YAML.stringify(value ?? {}));
  const [yamlError, setYamlError] = useState<string | null>(null);
  const uiSchema = useMemo(() => ({ ...uiSchemaFor(schema), "ui:submitButtonOptions": { norender: true } }), [schema]);

  const fromForm = (data: unknown, errors: RJSFValidationError[]) => {
    setYamlText(YAML.stringify(data ?? {}));
    setYamlError(null);
    onChange(data, errors.length === 0);
  };

  const fromYaml = (text: string) => {
    setYamlText(text);
    try {
      const data = YAML.parse(text) ?? {};
      const { errors } = validator.validateFormData(data, schema);
      setYamlError(errors.length ? errors.map((e) => `${e.property ?? ""} ${e.message ?? ""}`.trim()).join("; ") : null);
      onChange(data, errors.length === 0);
    } catch (e) {
      setYamlError(`Not valid YAML: ${e instanceof Error ? e.message : String(e)}`);
      onChange(value, false);
    }
  };

  return (
    <div className="mp-dynamic-form">
      <ToggleGroup aria-label="Configuration view">
        <ToggleGroupItem text="Form" buttonId="view-form" isSelected={view === "form"} onChange={() => setView("form")} />
        <ToggleGroupItem text="YAML" buttonId="view-yaml" isSelected={view === "yaml"} onChange={() => setView("yaml")} />
      </ToggleGroup>
      {view === "form" ? (
        <Form
          schema={schema}
          uiSchema={uiSchema}
          formData={value}
          validator={validator}
          widgets={{ switch: SwitchWidget }}
          liveValidate
          showErrorList={false}
          noHtml5Validate
          onChange={(e) => fromForm(e.formData, e.errors ?? [])}
        />
      ) : (
        <>
          <TextArea
            aria-label="Configuration as YAML"
            value={yamlText}
            onChange={(_e, v) => fromYaml(v)}
            rows={12}
            resizeOrientation="vertical"
            style={{ fontFamily: "monospace" }}
            validated={yamlError ? "error" : "default"}
          />
          {yamlError && (
            <HelperText>
              <HelperTextItem variant="error">{yamlError}</HelperTextItem>
            </HelperText>
          )}
        </>
      )}
    </div>
  );
}
