// Clusters > cluster > Features: the Alauda operators installed in the cluster with upgrades
// awaiting approval, and a batch Upgrade that approves their InstallPlans together (SPEC §2.4).
import { useMemo, useState } from "react";
import { Alert, Button, Checkbox, Content, PageSection, Title, Label } from "@patternfly/react-core";
import { Table, Thead, Tr, Th, Tbody, Td } from "@patternfly/react-table";
import { useWatch } from "../api/hooks";
import { R } from "../api/resources";
import { LISTING_SELECTOR } from "../api/packages";
import { batchUpgradable } from "../api/operators";
import { tilesOf } from "../api/packages";
import { approve, useInstalled } from "./InstalledOperators";
import { StatusLabel } from "./OperatorHub";

export function Features({ cluster }: { cluster: string }) {
  const { ops } = useInstalled(cluster);
  const pms = useWatch(cluster, R.packageManifests, undefined, LISTING_SELECTOR);
  const tiles = useMemo(() => new Map(tilesOf(pms.items).map((t) => [t.name, t])), [pms.items]);
  const alauda = ops.filter((o) => o.sourceType === "alauda" || tiles.get(o.packageName)?.sourceType === "alauda");
  const upgradable = batchUpgradable(ops, tiles);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const selected = upgradable.filter((o) => chosen.has(o.key));

  const upgrade = async () => {
    setBusy(true);
    setError(null);
    const failures: string[] = [];
    await Promise.all(selected.map((o) => approve(cluster, o).catch((e) => failures.push(`${o.packageName}: ${e.message}`))));
    if (failures.length) setError(failures.join("; "));
    setChosen(new Set());
    setBusy(false);
  };

  return (
    <PageSection aria-label="Features">
      <Title headingLevel="h1">Cluster {cluster}: Features</Title>
      <Content component="p">Alauda operators installed in this cluster. Batch upgrade approves the pending upgrade InstallPlans of the selected operators together.</Content>
      {error && <Alert isInline component="h2" variant="danger" title="Some upgrades were not approved" role="alert">{error}</Alert>}
      <Table aria-label="Alauda operators" variant="compact">
        <Thead><Tr><Th screenReaderText="Select" /><Th modifier="wrap">Operator</Th><Th modifier="wrap">Namespace</Th><Th modifier="wrap">Installed</Th><Th modifier="wrap">Status</Th><Th modifier="wrap">Upgrade to</Th></Tr></Thead>
        <Tbody>
          {alauda.map((o) => {
            const can = upgradable.includes(o);
            return (
              <Tr key={o.key} data-testid={`feature-${o.packageName}`}>
                <Td dataLabel="Select">
                  <Checkbox id={`select-${o.key}`} aria-label={`Select ${o.packageName}`} isDisabled={!can} isChecked={chosen.has(o.key)}
                    onChange={(_e, v) => { const n = new Set(chosen); if (v) n.add(o.key); else n.delete(o.key); setChosen(n); }} />
                </Td>
                <Td dataLabel="Operator">{o.packageName}</Td>
                <Td dataLabel="Namespace">{o.namespace}</Td>
                <Td dataLabel="Installed">{o.subscription.status?.installedCSV ?? "—"}</Td>
                <Td dataLabel="Status"><StatusLabel status={o.phase} /></Td>
                <Td dataLabel="Upgrade to">{can ? <Label color="blue">{o.pendingPlan?.spec?.clusterServiceVersionNames?.join(", ") ?? o.upgradeAvailable}</Label> : "—"}</Td>
              </Tr>
            );
          })}
        </Tbody>
      </Table>
      <Button style={{ marginTop: "1rem" }} isDisabled={busy || selected.length === 0} isLoading={busy} onClick={upgrade}>
        Upgrade {selected.length > 0 ? `(${selected.length})` : ""}
      </Button>
    </PageSection>
  );
}
