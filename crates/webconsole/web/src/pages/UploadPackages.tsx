// Upload Packages: tabs Operator / Cluster Plugin / Helm Chart listing the uploaded versions
// (ArtifactVersions in cpaas-system of every cluster), their clusters and Absent / Ready. Actions
// (delete a version) show only to users allowed to delete ArtifactVersions (SelfSubjectAccessReview).
import { useEffect, useMemo, useState } from "react";
import { Alert, Button, Content, PageSection, Tab, Tabs, TabTitleText, Title, CodeBlock, CodeBlockCode } from "@patternfly/react-core";
import { Table, Thead, Tr, Th, Tbody, Td } from "@patternfly/react-table";
import { useWatch } from "../api/hooks";
import { R } from "../api/resources";
import { can, remove, type ListState } from "../api/client";
import { ARTIFACT_NAMESPACE, rowsOfType, TABS, type ArtifactType } from "../api/artifacts";
import type { K8sObject } from "../api/types";
import { StatusLabel } from "./OperatorHub";

/** One live list per cluster (hooks cannot loop, so one small component per cluster feeds the page). */
function ClusterFeed({ cluster, onState }: { cluster: string; onState: (c: string, s: ListState) => void }) {
  const s = useWatch(cluster, R.artifactVersions, ARTIFACT_NAMESPACE);
  useEffect(() => onState(cluster, s), [cluster, s, onState]);
  return null;
}

export function UploadPackages({ clusters }: { clusters: string[] }) {
  const [tab, setTab] = useState<ArtifactType>("bundle");
  const [states, setStates] = useState<Map<string, ListState>>(new Map());
  const [admin, setAdmin] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const onState = useMemo(() => (c: string, s: ListState) => setStates((m) => new Map(m).set(c, s)), []);

  useEffect(() => {
    can("global", "delete", R.artifactVersions, ARTIFACT_NAMESPACE).then(setAdmin).catch(() => setAdmin(false));
  }, []);

  const byCluster = useMemo(() => {
    const m = new Map<string, K8sObject[]>();
    for (const [c, s] of states) m.set(c, s.items);
    return m;
  }, [states]);
  const rows = rowsOfType(byCluster, tab);
  const errors = [...states.entries()].filter(([, s]) => s.error).map(([c, s]) => `${c}: ${s.error}`);

  const table = (
        <Table aria-label={`Uploaded ${TABS.find((t) => t.type === tab)?.title} packages`} variant="compact">
          <Thead><Tr><Th modifier="wrap">Package</Th><Th modifier="wrap">Version</Th><Th modifier="wrap">Cluster</Th><Th modifier="wrap">Status</Th><Th modifier="wrap">Arch</Th><Th modifier="wrap">Image</Th>{admin && <Th screenReaderText="Actions" />}</Tr></Thead>
          <Tbody>
            {rows.map((r) => (
              <Tr key={r.key} data-testid={`upload-${r.name}`}>
                <Td dataLabel="Package">{r.artifact}</Td>
                <Td dataLabel="Version">{r.version}</Td>
                <Td dataLabel="Cluster">{r.cluster}</Td>
                <Td dataLabel="Status"><StatusLabel status={r.status} />{r.message && <small> {r.message}</small>}</Td>
                <Td dataLabel="Arch">{r.arch.join(", ")}</Td>
                <Td dataLabel="Image"><small style={{ wordBreak: "break-all" }}>{r.image}</small></Td>
                {admin && (
                  <Td dataLabel="Actions">
                    <Button size="sm" variant="link" isDanger aria-label={`Delete ${r.name} in ${r.cluster}`}
                      onClick={() => remove(r.cluster, R.artifactVersions, r.name, ARTIFACT_NAMESPACE).catch((e) => setError(String(e.message ?? e)))}>Delete</Button>
                  </Td>
                )}
              </Tr>
            ))}
          </Tbody>
        </Table>
  );

  return (
    <PageSection aria-label="Upload packages">
      {clusters.map((c) => <ClusterFeed key={c} cluster={c} onState={onState} />)}
      <Title headingLevel="h1">Upload Packages</Title>
      <Content component="p">Packages uploaded with <code>violet push</code>. A version is Ready once its images are in the platform registry.</Content>
      {errors.length > 0 && <Alert isInline component="h2" variant="danger" title={errors.join("; ")} />}
      {error && <Alert isInline component="h2" variant="danger" title="Action failed" role="alert">{error}</Alert>}
      {admin && (
        <div data-testid="upload-actions">
          <Content component="p">Upload a package from a shell:</Content>
          <CodeBlock><CodeBlockCode>violet push PACKAGE.tgz --platform-address {window.location.origin} --platform-username USER --platform-password PASSWORD</CodeBlockCode></CodeBlock>
        </div>
      )}
      <Tabs activeKey={tab} onSelect={(_e, k) => setTab(k as ArtifactType)} aria-label="Package types">
        {TABS.map((t) => (
          <Tab key={t.type} eventKey={t.type} title={<TabTitleText>{t.title}</TabTitleText>}>
            {t.type === tab ? table : <div />}
          </Tab>
        ))}
      </Tabs>
      {rows.length === 0 && <Content component="p">Nothing uploaded of this type.</Content>}
    </PageSection>
  );
}
