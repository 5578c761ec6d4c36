// The console shell: login gate, masthead with the cluster switcher, navigation (Administrator >
// Marketplace and Clusters > Features) and hash routing between the pages.
import { useEffect, useState } from "react";
import {
  Button, Masthead, MastheadBrand, MastheadContent, MastheadMain, Nav, NavGroup, NavItem, Page,
  PageSidebar, PageSidebarBody, FormSelect, FormSelectOption, Toolbar, ToolbarContent, ToolbarItem, MastheadLogo,
} from "@patternfly/react-core";
import { clusterNames, session, whoami } from "./api/client";
import { Login } from "./pages/Login";
import { OperatorHub } from "./pages/OperatorHub";
import { InstalledOperators } from "./pages/InstalledOperators";
import { ClusterPlugins } from "./pages/ClusterPlugins";
import { UploadPackages } from "./pages/UploadPackages";
import { Features } from "./pages/Features";

const PAGES = [
  { id: "operatorhub", title: "OperatorHub", group: "Marketplace" },
  { id: "installed", title: "Installed Operators", group: "Marketplace" },
  { id: "plugins", title: "Cluster Plugins", group: "Marketplace" },
  { id: "uploads", title: "Upload Packages", group: "Marketplace" },
  { id: "features", title: "Features", group: "Clusters" },
] as const;
type PageId = (typeof PAGES)[number]["id"];

function currentPage(): PageId {
  const id = window.location.hash.replace(/^#\/?/, "").split("?")[0];
  return (PAGES.find((p) => p.id === id)?.id ?? "operatorhub") as PageId;
}

export function App() {
  const [token, setToken] = useState(session.token());
  const [page, setPage] = useState<PageId>(currentPage());
  const [clusters, setClusters] = useState<string[]>([]);
  const [cluster, setCluster] = useState<string>(sessionStorage.getItem("marketplace.cluster") ?? "global");
  const [user, setUser] = useState<string>("");

  useEffect(() => {
    const onHash = () => setPage(currentPage());
    const onUnauthorized = () => {
      session.clear();
      setToken(null);
    };
    window.addEventListener("hashchange", onHash);
    window.addEventListener("marketplace:unauthorized", onUnauthorized);
    return () => {
      window.removeEventListener("hashchange", onHash);
      window.removeEventListener("marketplace:unauthorized", onUnauthorized);
    };
  }, []);

  useEffect(() => {
    if (!token) return;
    clusterNames().then(setClusters).catch(() => setClusters(["global"]));
    whoami().then((u) => setUser(u.name)).catch(() => setUser(""));
  }, [token]);

  useEffect(() => {
    const title = PAGES.find((p) => p.id === page)?.title ?? "";
    document.title = `${title} · Marketplace console`;
  }, [page]);

  if (!token) return <Login onLoggedIn={(t) => { session.set(t); setToken(t); }} />;

  const switchCluster = (c: string) => {
    sessionStorage.setItem("marketplace.cluster", c);
    setCluster(c);
  };
  const logout = () => {
    session.clear();
    setToken(null);
  };

  const masthead = (
    <Masthead>
      <MastheadMain>
        <MastheadBrand>
          <MastheadLogo component="a" href="#/operatorhub">
            <strong>Marketplace</strong>
          </MastheadLogo>
        </MastheadBrand>
      </MastheadMain>
      <MastheadContent>
        <Toolbar isFullHeight>
          <ToolbarContent>
            <ToolbarItem>
              <FormSelect id="cluster-switcher" aria-label="Cluster" value={cluster} onChange={(_e, v) => switchCluster(v)}>
                {(clusters.length ? clusters : [cluster]).map((c) => (
                  <FormSelectOption key={c} value={c} label={`Cluster: ${c}`} />
                ))}
              </FormSelect>
            </ToolbarItem>
            <ToolbarItem align={{ default: "alignEnd" }}>
              <span data-testid="user-name">{user}</span>
            </ToolbarItem>
            <ToolbarItem>
              <Button variant="secondary" onClick={logout}>Log out</Button>
            </ToolbarItem>
          </ToolbarContent>
        </Toolbar>
      </MastheadContent>
    </Masthead>
  );

  const sidebar = (
    <PageSidebar>
      <PageSidebarBody>
        <Nav aria-label="Console navigation">
          {(["Marketplace", "Clusters"] as const).map((g) => (
            <NavGroup key={g} title={g}>
              {PAGES.filter((p) => p.group === g).map((p) => (
                <NavItem key={p.id} to={`#/${p.id}`} isActive={page === p.id}>
                  {p.title}
                </NavItem>
              ))}
            </NavGroup>
          ))}
        </Nav>
      </PageSidebarBody>
    </PageSidebar>
  );

  return (
    <Page masthead={masthead} sidebar={sidebar} isManagedSidebar>
      {page === "operatorhub" && <OperatorHub cluster={cluster} />}
      {page === "installed" && <InstalledOperators cluster={cluster} />}
      {page === "plugins" && <ClusterPlugins clusters={clusters.length ? clusters : ["global"]} />}
      {page === "uploads" && <UploadPackages clusters={clusters.length ? clusters : ["global"]} />}
      {page === "features" && <Features cluster={cluster} />}
    </Page>
  );
}
