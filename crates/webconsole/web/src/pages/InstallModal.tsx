// Install an operator: channel, version (startingCSV), install mode (cpaas.io/target-namespaces),
// namespace (created), approval — Alauda packages offer Manual only and say why; the
// shared-namespace caveat when the namespace already holds another Subscription.
import { useMemo, useState } from "react";
import {
  Alert, Button, Form, FormGroup, FormHelperText, FormSelect, FormSelectOption, HelperText, HelperTextItem,
  Modal, ModalBody, ModalFooter, ModalHeader, Radio, TextInput,
} from "@patternfly/react-core";
import type { K8sObject } from "../api/types";
import type { PackageTile } from "../api/packages";
import { create, ensureNamespace } from "../api/client";
import { R } from "../api/resources";
import {
  allowedApprovals, buildSubscription, defaultForm, sharingNamespace, supportedModes, validateInstall,
  type InstallForm, type InstallMode,
} from "../api/operators";

function FieldError({ msg }: { msg?: string }) {
  if (!msg) return null;
  return (
    <FormHelperText>
      <HelperText><HelperTextItem variant="error">{msg}</HelperTextItem></HelperText>
    </FormHelperText>
  );
}

export function InstallModal({ cluster, tile, subscriptions, onClose }: { cluster: string; tile: PackageTile; subscriptions: K8sObject[]; onClose: () => void }) {
  const [form, setForm] = useState<InstallForm>(() => defaultForm(tile));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const errors = useMemo(() => validateInstall(tile, form), [tile, form]);
  const modes = supportedModes(tile, form.channel);
  const approvals = allowedApprovals(tile);
  const sharing = sharingNamespace(subscriptions, form.namespace, tile.name);
  const channel = tile.channels.find((c) => c.name === form.channel);

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await ensureNamespace(cluster, form.namespace);
      await create(cluster, R.subscriptions, buildSubscription(tile, form), form.namespace);
      window.location.hash = "#/installed";
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal isOpen onClose={onClose} variant="medium" aria-labelledby="install-title">
      <ModalHeader title={`Install ${tile.displayName}`} labelId="install-title" />
      <ModalBody>
        {error && <Alert isInline component="h2" variant="danger" title="Install failed" role="alert">{error}</Alert>}
        <Form id="install-form" onSubmit={(e) => { e.preventDefault(); if (!Object.keys(errors).length) submit(); }}>
          <FormGroup label="Update channel" fieldId="install-channel" isRequired>
            <FormSelect id="install-channel" value={form.channel} onChange={(_e, v) => setForm({ ...form, channel: v, startingCSV: "" })}>
              {tile.channels.map((c) => <FormSelectOption key={c.name} value={c.name} label={c.name} />)}
            </FormSelect>
            <FieldError msg={errors.channel} />
          </FormGroup>
          <FormGroup label="Version" fieldId="install-version">
            <FormSelect id="install-version" value={form.startingCSV} onChange={(_e, v) => setForm({ ...form, startingCSV: v })}>
              <FormSelectOption value="" label={`Latest in channel (${channel?.currentCSV ?? ""})`} />
              {(channel?.entries ?? []).map((e) => <FormSelectOption key={e.name} value={e.name} label={`${e.version} (${e.name})`} />)}
            </FormSelect>
            <FieldError msg={errors.startingCSV} />
          </FormGroup>
          <FormGroup label="Install mode" fieldId="install-mode" role="radiogroup" isStack>
            {(["AllNamespaces", "OwnNamespace", "SingleNamespace", "MultiNamespace"] as InstallMode[]).map((m) => (
              <Radio key={m} id={`install-mode-${m}`} name="install-mode" label={m === "AllNamespaces" ? "All namespaces on the cluster (recommended)" : m}
                isDisabled={!modes.includes(m)} isChecked={form.installMode === m} onChange={() => setForm({ ...form, installMode: m })} />
            ))}
            <FieldError msg={errors.installMode} />
          </FormGroup>
          {(form.installMode === "SingleNamespace" || form.installMode === "MultiNamespace") && (
            <FormGroup label="Watched namespaces (comma separated)" fieldId="install-targets">
              <TextInput id="install-targets" value={form.targetNamespaces.join(",")}
                onChange={(_e, v) => setForm({ ...form, targetNamespaces: v.split(",").map((s) => s.trim()).filter(Boolean) })}
                validated={errors.targetNamespaces ? "error" : "default"} />
              <FieldError msg={errors.targetNamespaces} />
            </FormGroup>
          )}
          <FormGroup label="Installed namespace" fieldId="install-namespace" isRequired>
            <TextInput id="install-namespace" value={form.namespace} onChange={(_e, v) => setForm({ ...form, namespace: v })}
              validated={errors.namespace ? "error" : "default"} />
            <FormHelperText><HelperText><HelperTextItem>Created if it does not exist. One namespace per operator is recommended.</HelperTextItem></HelperText></FormHelperText>
            <FieldError msg={errors.namespace} />
          </FormGroup>
          {sharing.length > 0 && (
            <Alert isInline component="h2" variant="warning" title="This namespace already holds other operators" data-testid="shared-namespace-caveat">
              {sharing.join(", ")} {sharing.length === 1 ? "is" : "are"} subscribed in {form.namespace}. Subscriptions of one
              namespace are resolved together and may share one InstallPlan: while a plan that needs manual approval is
              pending, automatic upgrades of the others wait too.
            </Alert>
          )}
          <FormGroup label="Approval strategy" fieldId="install-approval" role="radiogroup" isStack>
            {(["Automatic", "Manual"] as const).map((a) => (
              <Radio key={a} id={`install-approval-${a}`} name="install-approval" label={a} isDisabled={!approvals.includes(a)}
                isChecked={form.approval === a} onChange={() => setForm({ ...form, approval: a })} />
            ))}
            {tile.sourceType === "alauda" && (
              <FormHelperText><HelperText><HelperTextItem data-testid="manual-only-reason">
                Alauda operators support only Manual approval: every install and upgrade waits for an administrator to approve its InstallPlan.
              </HelperTextItem></HelperText></FormHelperText>
            )}
            <FieldError msg={errors.approval} />
          </FormGroup>
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="install-form" isDisabled={busy || Object.keys(errors).length > 0} isLoading={busy}>Install</Button>
        <Button variant="link" onClick={onClose}>Cancel</Button>
      </ModalFooter>
    </Modal>
  );
}
