// Cluster Plugins: every ModulePlugin with its status per cluster and current / new version; Install
// (target clusters limited by the version's affinity, the plugin's dynamic form with a YAML view),
// upgrade and uninstall. All plugin objects live in the global cluster (SPEC §3).
import { useMemo, useState } from "react";
import {
  Alert, Button, Content, Form, FormGroup, FormSelect, FormSelectOption, Modal, ModalBody, ModalFooter, ModalHeader,
  PageSection, Title, Flex, FlexItem, Label, Spinner,
} from "@patternfly/react-core";
import { Table, Thead, Tr, Th, Tbody, Td } from "@patternfly/react-table";
import { useWatch } from "../api/hooks";
import { R } from "../api/resources";
import { create, mergePatch, remove } from "../api/client";
import { buildModuleInfo, clusterInfos, installableClusters, pluginRows, type ClusterInfo, type Installation, type PluginRow } from "../api/plugins";
import { defaultsOf, isEmptyForm, schemaForConfig } from "../forms/schema";
import { DynamicForm } from "../forms/DynamicForm";
import { StatusLabel } from "./OperatorHub";

const GLOBAL = "global";

export function ClusterPlugins({ clusters }: { clusters: string[] }) {
  const plugins = useWatch(GLOBAL, R.modulePlugins);
  const configs = useWatch(GLOBAL, R.moduleConfigs);
  const infos = useWatch(GLOBAL, R.moduleInfos);
  const registry = useWatch(GLOBAL, R.clusters);
  const cms = useWatch(GLOBAL, R.configMaps, "kube-public");
  const rows = useMemo(() => pluginRows(plugins.items, configs.items, infos.items), [plugins.items, configs.items, infos.items]);
  // Rows appear once plugins, versions and installations have all arrived: drawn from the first
  // list alone they would grow (status, installations) as the others land, shifting the page.
  const ready = plugins.loaded && configs.loaded && infos.loaded;
  const clusterList = useMemo(() => clusterInfos(clusters, registry.items, cms.items), [clusters, registry.items, cms.items]);
  const [installing, setInstalling] = useState<PluginRow | null>(null);
  const [error, setError] = useState<string | null>(null);
  const act = (f: () => Promise<unknown>) => f().catch((e) => setError(e instanceof Error ? e.message : String(e)));

  return (
    <PageSection aria-label="Cluster plugins">
      <Title headingLevel="h1">Cluster Plugins</Title>
      {plugins.absent && <Alert isInline component="h2" variant="warning" title="The global cluster serves no ModulePlugins (cluster plugins are not enabled)." />}
      {(plugins.error || infos.error) && <Alert isInline component="h2" variant="danger" title={plugins.error ?? infos.error ?? ""} />}
      {error && <Alert isInline component="h2" variant="danger" title="Action failed" role="alert" actionClose={<Button variant="plain" aria-label="Dismiss" onClick={() => setError(null)}>×</Button>}>{error}</Alert>}
      <Table aria-label="Cluster plugins" variant="compact">
        <Thead><Tr><Th modifier="wrap">Plugin</Th><Th modifier="wrap">Status</Th><Th modifier="wrap">Latest version</Th><Th modifier="wrap">Installed in</Th><Th screenReaderText="Actions" /></Tr></Thead>
        <Tbody>
          {ready && rows.map((row) => (
            <Tr key={row.name} data-testid={`plugin-${row.name}`}>
              <Td dataLabel="Plugin"><strong>{row.displayName}</strong><br /><small>{row.description}</small></Td>
              <Td dataLabel="Status"><StatusLabel status={row.status} /></Td>
              <Td dataLabel="Latest version">{row.versions[0]?.version ?? "—"}</Td>
              <Td dataLabel="Installed in">
                {row.installations.length === 0 ? "—" : row.installations.map((i) => (
                  <InstallationLine key={i.info.metadata.name} inst={i}
                    onUpgrade={() => act(() => mergePatch(GLOBAL, R.moduleInfos, i.info.metadata.name, { spec: { version: i.newVersion } }))}
                    onUninstall={() => act(() => remove(GLOBAL, R.moduleInfos, i.info.metadata.name))} />
                ))}
              </Td>
              <Td dataLabel="Actions">
                <Button size="sm" isDisabled={row.status !== "Ready"} onClick={() => setInstalling(row)} aria-label={`Install ${row.name}`}>Install</Button>
              </Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
      {!ready && <Spinner aria-label="Loading cluster plugins" />}
      {ready && rows.length === 0 && <Content component="p">No cluster plugins are published.</Content>}
      {installing && <InstallPluginModal row={installing} clusters={clusterList} onClose={() => setInstalling(null)} />}
    </PageSection>
  );
}

function InstallationLine({ inst, onUpgrade, onUninstall }: { inst: Installation; onUpgrade: () => void; onUninstall: () => void }) {
  return (
    <div data-testid={`installation-${inst.cluster}`} style={{ marginBottom: "0.25rem" }}>
      <Flex spaceItems={{ default: "spaceItemsSm" }} alignItems={{ default: "alignItemsCenter" }}>
        <FlexItem><strong>{inst.cluster}</strong></FlexItem>
        <FlexItem><StatusLabel status={inst.phase} /></FlexItem>
        <FlexItem>{inst.currentVersion ?? "—"}{inst.targetVersion && inst.targetVersion !== inst.currentVersion ? ` → ${inst.targetVersion}` : ""}</FlexItem>
        {inst.newVersion && <FlexItem><Label color="blue">{inst.newVersion} available</Label></FlexItem>}
        {inst.newVersion && <FlexItem><Button size="sm" variant="secondary" onClick={onUpgrade} aria-label={`Upgrade on ${inst.cluster} to ${inst.newVersion}`}>Upgrade</Button></FlexItem>}
        <FlexItem><Button size="sm" variant="link" isDanger onClick={onUninstall} aria-label={`Uninstall from ${inst.cluster}`}>Uninstall</Button></FlexItem>
      </Flex>
      {/* A failure in the danger colour; what a Processing installation waits for, plainly. */}
      {inst.message && (inst.phase === "Failed"
        ? <small data-testid="failure-reason" style={{ color: "var(--pf-t--global--text--color--status--danger--default)" }}>{inst.message}</small>
        : <small data-testid="status-message">{inst.message}</small>)}
    </div>
  );
}

function InstallPluginModal({ row, clusters, onClose }: { row: PluginRow; clusters: ClusterInfo[]; onClose: () => void }) {
  const [version, setVersion] = useState(row.versions[0]?.version ?? "");
  const v = row.versions.find((x) => x.version === version) ?? row.versions[0];
  const targets = useMemo(() => (v ? installableClusters(row, v, clusters) : []), [row, v, clusters]);
  const [cluster, setCluster] = useState<string>("");
  const schema = useMemo(() => schemaForConfig(v?.config.spec), [v]);
  const [config, setConfig] = useState<unknown>(() => defaultsOf(schema));
  const [valid, setValid] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const target = targets.some((t) => t.name === cluster) ? cluster : targets[0]?.name ?? "";

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await create(GLOBAL, R.moduleInfos, buildModuleInfo(row.name, target, version, config));
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal isOpen onClose={onClose} variant="medium" aria-labelledby="plugin-install-title">
      <ModalHeader title={`Install ${row.displayName}`} labelId="plugin-install-title" />
      <ModalBody>
        {error && <Alert isInline component="h2" variant="danger" title="Install failed" role="alert">{error}</Alert>}
        <Form onSubmit={(e) => e.preventDefault()}>
          <FormGroup label="Version" fieldId="plugin-version">
            <FormSelect id="plugin-version" value={version} onChange={(_e, x) => { setVersion(x); const nv = row.versions.find((y) => y.version === x); setConfig(defaultsOf(schemaForConfig(nv?.config.spec))); }}>
              {row.versions.map((x) => <FormSelectOption key={x.version} value={x.version} label={x.version} />)}
            </FormSelect>
          </FormGroup>
          <FormGroup label="Target cluster" fieldId="plugin-cluster">
            <FormSelect id="plugin-cluster" value={target} onChange={(_e, x) => setCluster(x)} isDisabled={targets.length === 0}>
              {targets.map((c) => <FormSelectOption key={c.name} value={c.name} label={c.name} />)}
            </FormSelect>
            {targets.length === 0 && <Content component="p" role="status">No cluster admits this version (its affinity), or it is installed on every cluster that does.</Content>}
          </FormGroup>
        </Form>
        <Title headingLevel="h2" size="md" style={{ marginTop: "1rem" }}>Configuration</Title>
        {isEmptyForm(schema) ? <Content component="p">This plugin needs no configuration.</Content> : (
          <DynamicForm key={version} schema={schema} value={config} onChange={(c, ok) => { setConfig(c); setValid(ok); }} />
        )}
      </ModalBody>
      <ModalFooter>
        <Button onClick={submit} isDisabled={busy || !valid || !target} isLoading={busy}>Install</Button>
        <Button variant="link" onClick={onClose}>Cancel</Button>
      </ModalFooter>
    </Modal>
  );
}
