// Installed operators of a cluster: CSV phase, upgrade available, InstallPlans that require approval
// (with their components, Approve / Deny), failure reasons, channel/approval change, uninstall.
import { useMemo, useState } from "react";
import {
  Alert, Button, Checkbox, Content, ExpandableSection, Form, FormGroup, FormSelect, FormSelectOption, List, ListItem,
  Modal, ModalBody, ModalFooter, ModalHeader, PageSection, Title, Label, Flex, FlexItem,
} from "@patternfly/react-core";
import { Table, Thead, Tr, Th, Tbody, Td } from "@patternfly/react-table";
import { useWatch } from "../api/hooks";
import { R } from "../api/resources";
import { LISTING_SELECTOR } from "../api/packages";
import { mergePatch, remove } from "../api/client";
import { installedOperators, ownedCrds, planComponents, planSharedWith, type InstalledOperator } from "../api/operators";
import { tilesOf } from "../api/packages";
import { StatusLabel } from "./OperatorHub";

export function useInstalled(cluster: string) {
  const subs = useWatch(cluster, R.subscriptions);
  const csvs = useWatch(cluster, R.csvs);
  const plans = useWatch(cluster, R.installPlans);
  const ops = useMemo(() => installedOperators(subs.items, csvs.items, plans.items), [subs.items, csvs.items, plans.items]);
  return { ops, loaded: subs.loaded, error: subs.error ?? csvs.error ?? plans.error, absent: subs.absent };
}

export async function approve(cluster: string, op: InstalledOperator) {
  if (!op.pendingPlan) return;
  await mergePatch(cluster, R.installPlans, op.pendingPlan.metadata.name, { spec: { approved: true } }, op.namespace);
}

export function PlanComponents({ op }: { op: InstalledOperator }) {
  if (!op.pendingPlan) return null;
  const comps = planComponents(op.pendingPlan);
  const shared = planSharedWith(op.pendingPlan, op.subscription.metadata.name);
  return (
    <ExpandableSection toggleText={`InstallPlan ${op.pendingPlan.metadata.name}: ${comps.length} components`}>
      {shared.length > 0 && (
        <Content component="p" data-testid="plan-shared">
          Shared with {shared.map((s) => `${s.subscription} (${s.csv})`).join(", ")} in this namespace: approving or denying it acts on them too.
        </Content>
      )}
      <List isPlain>
        {(op.pendingPlan.spec?.clusterServiceVersionNames ?? []).map((n: string) => <ListItem key={n}>CSV {n}</ListItem>)}
        {comps.map((c, i) => <ListItem key={i}>{c.kind} {c.name}</ListItem>)}
      </List>
    </ExpandableSection>
  );
}

export function InstalledOperators({ cluster }: { cluster: string }) {
  const { ops, loaded, error, absent } = useInstalled(cluster);
  const pms = useWatch(cluster, R.packageManifests, undefined, LISTING_SELECTOR);
  const tiles = useMemo(() => tilesOf(pms.items), [pms.items]);
  const [actionError, setActionError] = useState<string | null>(null);
  const [editing, setEditing] = useState<InstalledOperator | null>(null);
  const [removing, setRemoving] = useState<InstalledOperator | null>(null);

  const act = (f: () => Promise<unknown>) => f().catch((e) => setActionError(e instanceof Error ? e.message : String(e)));

  const deny = (op: InstalledOperator) =>
    act(async () => {
      await remove(cluster, R.installPlans, op.pendingPlan!.metadata.name, op.namespace);
      // Nothing installed yet: denying the first plan withdraws the Subscription too.
      if (!op.subscription.status?.installedCSV) await remove(cluster, R.subscriptions, op.subscription.metadata.name, op.namespace);
    });

  return (
    <PageSection aria-label="Installed operators">
      <Title headingLevel="h1">Installed Operators</Title>
      {error && <Alert isInline component="h2" variant="danger" title={error} />}
      {absent && <Alert isInline component="h2" variant="warning" title={`Cluster ${cluster} serves no Subscriptions.`} />}
      {actionError && <Alert isInline component="h2" variant="danger" title="Action failed" role="alert">{actionError}</Alert>}
      <Table aria-label="Installed operators" variant="compact">
        <Thead>
          <Tr><Th modifier="wrap" width={20}>Name / namespace</Th><Th modifier="wrap" width={20}>Version / channel</Th><Th modifier="wrap" width={40}>Status</Th><Th modifier="wrap" width={20} screenReaderText="Actions" /></Tr>
        </Thead>
        <Tbody>
          {ops.map((op) => (
            <Tr key={op.key} data-testid={`operator-${op.packageName}`}>
              <Td dataLabel="Name / namespace">{op.packageName}<br /><small>{op.namespace}</small></Td>
              <Td dataLabel="Version / channel">{op.csvName || "—"}<br /><small>{op.channel} · {op.approval}</small></Td>
              <Td dataLabel="Status">
                {/* A first install waiting for approval says so once (the orange label below), not twice. */}
                {!(op.pendingPlan && op.phase === "RequiresApproval") && <StatusLabel status={op.phase} />}
                {op.upgradeAvailable && <> <Label color="blue">Upgrade available: {op.upgradeAvailable}</Label></>}
                {op.problem && <Content component="p" data-testid="failure-reason" style={{ color: "var(--pf-t--global--text--color--status--danger--default)" }}>{op.problem}</Content>}
                {op.pendingPlan && <> <Label color="orange">Requires approval</Label><PlanComponents op={op} /></>}
              </Td>
              <Td dataLabel="Actions">
                <Flex spaceItems={{ default: "spaceItemsSm" }} direction={{ default: "column" }} alignItems={{ default: "alignItemsFlexStart" }}>
                  {op.pendingPlan && (
                    <>
                      <FlexItem><Button size="sm" onClick={() => act(() => approve(cluster, op))} aria-label={`Approve ${op.packageName}`}>Approve</Button></FlexItem>
                      <FlexItem><Button size="sm" variant="secondary" onClick={() => deny(op)} aria-label={`Deny ${op.packageName}`}>Deny</Button></FlexItem>
                    </>
                  )}
                  <FlexItem><Button size="sm" variant="secondary" onClick={() => setEditing(op)} aria-label={`Edit subscription of ${op.packageName}`}>Edit</Button></FlexItem>
                  <FlexItem><Button size="sm" variant="danger" onClick={() => setRemoving(op)} aria-label={`Uninstall ${op.packageName}`}>Uninstall</Button></FlexItem>
                </Flex>
              </Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
      {loaded && ops.length === 0 && <Content component="p">No operators installed in cluster {cluster}.</Content>}
      {editing && (
        <EditModal op={editing} channels={tiles.find((t) => t.name === editing.packageName)?.channels.map((c) => c.name) ?? [editing.channel]}
          alauda={tiles.find((t) => t.name === editing.packageName)?.sourceType === "alauda"}
          onSave={(patch) => act(() => mergePatch(cluster, R.subscriptions, editing.subscription.metadata.name, { spec: patch }, editing.namespace)).then(() => setEditing(null))}
          onClose={() => setEditing(null)} />
      )}
      {removing && <UninstallModal cluster={cluster} op={removing} onClose={() => setRemoving(null)} onError={setActionError} />}
    </PageSection>
  );
}

function EditModal({ op, channels, alauda, onSave, onClose }: { op: InstalledOperator; channels: string[]; alauda: boolean; onSave: (p: Record<string, string>) => void; onClose: () => void }) {
  const [channel, setChannel] = useState(op.channel);
  const [approval, setApproval] = useState<string>(op.approval);
  return (
    <Modal isOpen onClose={onClose} variant="small" aria-labelledby="edit-title">
      <ModalHeader title={`Subscription of ${op.packageName}`} labelId="edit-title" />
      <ModalBody>
        <Form>
          <FormGroup label="Update channel" fieldId="edit-channel">
            <FormSelect id="edit-channel" value={channel} onChange={(_e, v) => setChannel(v)}>
              {channels.map((c) => <FormSelectOption key={c} value={c} label={c} />)}
            </FormSelect>
          </FormGroup>
          <FormGroup label="Approval strategy" fieldId="edit-approval">
            <FormSelect id="edit-approval" value={approval} onChange={(_e, v) => setApproval(v)}>
              <FormSelectOption value="Automatic" label="Automatic" isDisabled={alauda} />
              <FormSelectOption value="Manual" label="Manual" />
            </FormSelect>
          </FormGroup>
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button onClick={() => onSave({ channel, installPlanApproval: approval })}>Save</Button>
        <Button variant="link" onClick={onClose}>Cancel</Button>
      </ModalFooter>
    </Modal>
  );
}

function UninstallModal({ cluster, op, onClose, onError }: { cluster: string; op: InstalledOperator; onClose: () => void; onError: (m: string) => void }) {
  const [cleanup, setCleanup] = useState(false);
  const crds = ownedCrds(op.csv);
  const go = async () => {
    try {
      await remove(cluster, R.subscriptions, op.subscription.metadata.name, op.namespace);
      if (op.csv) await remove(cluster, R.csvs, op.csv.metadata.name, op.namespace);
      if (cleanup)
        for (const crd of crds)
          await remove(cluster, { group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", namespaced: false }, crd);
      onClose();
    } catch (e) {
      onError(e instanceof Error ? e.message : String(e));
      onClose();
    }
  };
  return (
    <Modal isOpen onClose={onClose} variant="small" aria-labelledby="uninstall-title">
      <ModalHeader title={`Uninstall ${op.packageName}?`} labelId="uninstall-title" />
      <ModalBody>
        <Content component="p">Deletes the Subscription {op.subscription.metadata.name} and the CSV {op.csv?.metadata.name ?? "(none)"} in {op.namespace}; the operator's Deployments go with the CSV.</Content>
        <Checkbox id="uninstall-cleanup" isChecked={cleanup} onChange={(_e, v) => setCleanup(v)} isDisabled={crds.length === 0}
          label="Also delete the custom resource definitions this operator owns, and with them every custom resource of those kinds"
          description={crds.length ? crds.join(", ") : "This operator owns no CRDs."} />
      </ModalBody>
      <ModalFooter>
        <Button variant="danger" onClick={go}>Uninstall</Button>
        <Button variant="link" onClick={onClose}>Cancel</Button>
      </ModalFooter>
    </Modal>
  );
}
