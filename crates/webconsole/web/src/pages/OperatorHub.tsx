// OperatorHub: tiles from PackageManifests with source type, provider and Absent / Ready; filters,
// search, a detail panel with channels and versions, and the Install form.
import { memo, useEffect, useMemo, useState } from "react";
import {
  Alert, Card, CardBody, CardHeader, CardTitle, Checkbox, Content, Drawer, DrawerActions, DrawerCloseButton,
  DrawerContent, DrawerContentBody, DrawerHead, DrawerPanelBody, DrawerPanelContent, EmptyState, Flex, FlexItem,
  FormSelect, FormSelectOption, FormGroup, Gallery, Label, PageSection, SearchInput, Sidebar, SidebarContent,
  SidebarPanel, Title, Button, Spinner,
} from "@patternfly/react-core";
import { Table, Thead, Tr, Th, Tbody, Td } from "@patternfly/react-table";
import { useWatch } from "../api/hooks";
import { R } from "../api/resources";
import { LISTING_SELECTOR } from "../api/packages";
import {
  emptyFilter, filterTiles, installedPackages, providersOf, SOURCE_TYPES, sourceTypeLabel, tilesOf,
  type HubFilter, type PackageTile, type SourceType,
} from "../api/packages";
import { InstallModal } from "./InstallModal";

export function StatusLabel({ status }: { status: string }) {
  const color = status === "Ready" || status === "Running" || status === "Succeeded" ? "green" : status === "Failed" ? "red" : "grey";
  return <Label color={color} data-testid="status">{status}</Label>;
}

/** Tiles rendered in the first frame (more than a 1280x800 screen holds), then per later frame. */
const FIRST_TILES = 48;
const MORE_TILES = 120;

/**
 * How many of `total` tiles to render: FIRST_TILES at once, then MORE_TILES after each paint, so the
 * first screenful paints without waiting for hundreds of cards below the fold. Tiles only ever
 * append below the ones shown (fixed heights), so nothing on screen moves.
 */
function useProgressive(total: number): number {
  const [limit, setLimit] = useState(FIRST_TILES);
  useEffect(() => {
    if (limit >= total) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // After the next paint: a rAF callback runs before it, the timeout it schedules after it.
    const frame = requestAnimationFrame(() => { timer = setTimeout(() => setLimit((l) => l + MORE_TILES), 0); });
    return () => { cancelAnimationFrame(frame); if (timer !== undefined) clearTimeout(timer); };
  }, [limit, total]);
  return limit;
}

export function OperatorHub({ cluster }: { cluster: string }) {
  const pms = useWatch(cluster, R.packageManifests, undefined, LISTING_SELECTOR);
  const subs = useWatch(cluster, R.subscriptions);
  const [filter, setFilter] = useState<HubFilter>(emptyFilter);
  const [selected, setSelected] = useState<string | null>(null);
  const [installing, setInstalling] = useState<PackageTile | null>(null);

  const tiles = useMemo(() => tilesOf(pms.items), [pms.items]);
  const installed = useMemo(() => installedPackages(subs.items), [subs.items]);
  const shown = useMemo(() => filterTiles(tiles, filter, installed), [tiles, filter, installed]);
  const providers = useMemo(() => providersOf(tiles), [tiles]);
  const tile = tiles.find((t) => t.key === selected) ?? null;
  const limit = useProgressive(shown.length);

  const toggle = <T,>(list: T[], v: T) => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);

  const filters = (
    <div aria-label="Filters" role="group">
      <Title headingLevel="h2" size="md">Source type</Title>
      {SOURCE_TYPES.map((t) => (
        <Checkbox key={t} id={`filter-type-${t}`} label={sourceTypeLabel(t)} isChecked={filter.sourceTypes.includes(t)}
          onChange={() => setFilter({ ...filter, sourceTypes: toggle<SourceType>(filter.sourceTypes, t) })} />
      ))}
      <FormGroup label="Install state" fieldId="filter-installed" style={{ marginTop: "1rem" }}>
        <FormSelect id="filter-installed" value={filter.installed}
          onChange={(_e, v) => setFilter({ ...filter, installed: v as HubFilter["installed"] })}>
          <FormSelectOption value="all" label="All" />
          <FormSelectOption value="installed" label="Installed" />
          <FormSelectOption value="not-installed" label="Not installed" />
        </FormSelect>
      </FormGroup>
      <Title headingLevel="h2" size="md" style={{ marginTop: "1rem" }}>Provider</Title>
      {providers.map((p) => (
        <Checkbox key={p} id={`filter-provider-${p}`} label={p} isChecked={filter.providers.includes(p)}
          onChange={() => setFilter({ ...filter, providers: toggle(filter.providers, p) })} />
      ))}
    </div>
  );

  const panel = tile && (
    <DrawerPanelContent widths={{ default: "width_50" }}>
      <DrawerHead>
        <Title headingLevel="h2">{tile.displayName}</Title>
        <DrawerActions>
          <DrawerCloseButton onClick={() => setSelected(null)} />
        </DrawerActions>
      </DrawerHead>
      <DrawerPanelBody>
        <Flex>
          <FlexItem><StatusLabel status={tile.status} /></FlexItem>
          <FlexItem><Label>{sourceTypeLabel(tile.sourceType)}</Label></FlexItem>
          <FlexItem>Provider: {tile.provider || "—"}</FlexItem>
          <FlexItem>Catalog: {tile.catalogSourceDisplayName} ({tile.catalogSourceNamespace})</FlexItem>
        </Flex>
        <Content component="p">{tile.description}</Content>
        {tile.status === "Absent" && (
          <Alert isInline component="h2" variant="info" title="Not uploaded yet">
            Upload this operator's package with <code>violet push</code>; it becomes Ready here without reloading.
          </Alert>
        )}
        <Button style={{ margin: "1rem 0" }} isDisabled={tile.status !== "Ready" || installed.has(tile.name)} onClick={() => setInstalling(tile)}>
          {installed.has(tile.name) ? "Installed" : "Install"}
        </Button>
        <Table aria-label="Channels and versions" variant="compact">
          <Thead><Tr><Th modifier="wrap">Channel</Th><Th modifier="wrap">Name</Th><Th modifier="wrap">Version</Th></Tr></Thead>
          <Tbody>
            {tile.channels.flatMap((c) => c.entries.map((e) => (
              <Tr key={`${c.name}/${e.name}`}>
                <Td dataLabel="Channel">{c.name}{c.name === tile.defaultChannel ? " (default)" : ""}</Td>
                <Td dataLabel="Name">{e.name}</Td>
                <Td dataLabel="Version">{e.version}</Td>
              </Tr>
            )))}
          </Tbody>
        </Table>
      </DrawerPanelBody>
    </DrawerPanelContent>
  );

  return (
    <PageSection aria-label="OperatorHub">
      <Title headingLevel="h1">OperatorHub</Title>
      {pms.error && <Alert isInline component="h2" variant="danger" title={`Cannot read PackageManifests: ${pms.error}`} />}
      {pms.absent && <Alert isInline component="h2" variant="warning" title={`Cluster ${cluster} serves no PackageManifests (the operator lifecycle manager is not running there).`} />}
      <Drawer isExpanded={!!tile} isInline>
        <DrawerContent panelContent={panel}>
          <DrawerContentBody>
            <Sidebar>
              <SidebarPanel width={{ default: "width_25" }}>{filters}</SidebarPanel>
              <SidebarContent>
                <SearchInput aria-label="Search operators" placeholder="Filter by keyword" value={filter.search}
                  onChange={(_e, v) => setFilter({ ...filter, search: v })} onClear={() => setFilter({ ...filter, search: "" })} />
                <p aria-live="polite" style={{ margin: "0.5rem 0" }} data-testid="tile-count">{pms.loaded ? `${shown.length} items` : "Loading…"}</p>
                <div className="mp-gallery-min">
                  {!pms.loaded ? <Spinner aria-label="Loading operators" /> : shown.length === 0 ? (
                    <EmptyState titleText="No operators match" headingLevel="h2" />
                  ) : (
                    <Gallery hasGutter minWidths={{ default: "220px" }}>
                      {shown.slice(0, limit).map((t) => <Tile key={t.key} tile={t} installed={installed.has(t.name)} onSelect={setSelected} />)}
                    </Gallery>
                  )}
                </div>
              </SidebarContent>
            </Sidebar>
          </DrawerContentBody>
        </DrawerContent>
      </Drawer>
      {installing && <InstallModal cluster={cluster} tile={installing} subscriptions={subs.items} onClose={() => setInstalling(null)} />}
    </PageSection>
  );
}

/**
 * One tile; memoized (with a stable `onSelect`) so that a change elsewhere on the page — the
 * Subscriptions arriving, a watch event for one package — does not re-render all 500 of them.
 */
const Tile = memo(function Tile({ tile, installed, onSelect }: { tile: PackageTile; installed: boolean; onSelect: (key: string) => void }) {
  return (
    <Card className="mp-tile" isClickable isCompact data-testid={`tile-${tile.name}`}>
      <CardHeader selectableActions={{ onClickAction: () => onSelect(tile.key), selectableActionAriaLabelledby: `tile-title-${tile.key}` }}>
        {tile.icon ? <img className="mp-tile-icon" src={tile.icon} alt="" /> : <div className="mp-tile-placeholder" aria-hidden="true" />}
      </CardHeader>
      <CardTitle id={`tile-title-${tile.key}`}>{tile.displayName}</CardTitle>
      <CardBody>
        <Flex spaceItems={{ default: "spaceItemsSm" }}>
          <FlexItem><StatusLabel status={tile.status} /></FlexItem>
          <FlexItem><Label isCompact>{sourceTypeLabel(tile.sourceType)}</Label></FlexItem>
          {installed && <FlexItem><Label isCompact color="blue">Installed</Label></FlexItem>}
        </Flex>
        <small>provided by {tile.provider || "unknown"}</small>
      </CardBody>
    </Card>
  );
});
