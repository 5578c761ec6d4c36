// Adapter for OLM's Subscription / InstallPlan / ClusterServiceVersion (operators.coreos.com,
// SPEC §2.3/§2.4): what the install form creates and how the Installed operators page reads them.
import type { Condition, K8sObject } from "./types";
import type { PackageTile } from "./packages";

export const TARGET_NAMESPACES_ANNOTATION = "cpaas.io/target-namespaces";

export type InstallMode = "AllNamespaces" | "OwnNamespace" | "SingleNamespace" | "MultiNamespace";
export type Approval = "Automatic" | "Manual";

export interface InstallForm {
  channel: string;
  /** The CSV to start from (a channel entry's name); "" = the channel head. */
  startingCSV: string;
  installMode: InstallMode;
  namespace: string;
  /** For SingleNamespace / MultiNamespace: the watched namespaces. */
  targetNamespaces: string[];
  approval: Approval;
}

/** Approvals a package may use: Alauda operators support only Manual (SPEC §2.4). */
export function allowedApprovals(tile: Pick<PackageTile, "sourceType">): Approval[] {
  return tile.sourceType === "alauda" ? ["Manual"] : ["Automatic", "Manual"];
}

export function supportedModes(tile: PackageTile, channel: string): InstallMode[] {
  const ch = tile.channels.find((c) => c.name === channel);
  const modes = (ch?.installModes ?? []).filter((m) => m.supported).map((m) => m.type as InstallMode);
  return modes.length ? modes : ["AllNamespaces"];
}

export function defaultForm(tile: PackageTile): InstallForm {
  const modes = supportedModes(tile, tile.defaultChannel);
  const mode = modes.includes("AllNamespaces") ? "AllNamespaces" : modes[0];
  return {
    channel: tile.defaultChannel,
    startingCSV: "",
    installMode: mode,
    namespace: tile.name,
    targetNamespaces: [],
    approval: allowedApprovals(tile).includes("Manual") && tile.sourceType === "alauda" ? "Manual" : "Automatic",
  };
}

const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Field errors of the form (field → message); empty when it can be submitted. */
export function validateInstall(tile: PackageTile, f: InstallForm): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!tile.channels.some((c) => c.name === f.channel)) errors.channel = "Choose an update channel of this package.";
  if (f.startingCSV && !tile.channels.find((c) => c.name === f.channel)?.entries.some((e) => e.name === f.startingCSV))
    errors.startingCSV = `Version ${f.startingCSV} is not in channel ${f.channel}.`;
  if (!DNS1123.test(f.namespace) || f.namespace.length > 63)
    errors.namespace = "A namespace name is lowercase letters, digits and '-', at most 63 characters.";
  if (!allowedApprovals(tile).includes(f.approval))
    errors.approval = "Alauda operators support only Manual approval: their upgrades must be approved by an administrator.";
  if (!supportedModes(tile, f.channel).includes(f.installMode))
    errors.installMode = `This operator does not support ${f.installMode}.`;
  if ((f.installMode === "SingleNamespace" || f.installMode === "MultiNamespace") && f.targetNamespaces.length === 0)
    errors.targetNamespaces = "Name the namespace(s) the operator watches.";
  if (f.installMode === "SingleNamespace" && f.targetNamespaces.length > 1)
    errors.targetNamespaces = "SingleNamespace watches exactly one namespace.";
  return errors;
}

/** The `cpaas.io/target-namespaces` value: "" = cluster-wide (SPEC §2.3). */
export function targetNamespacesValue(f: InstallForm): string {
  switch (f.installMode) {
    case "AllNamespaces":
      return "";
    case "OwnNamespace":
      return f.namespace;
    default:
      return f.targetNamespaces.join(",");
  }
}

export function buildSubscription(tile: PackageTile, f: InstallForm): K8sObject {
  const spec: Record<string, string> = {
    channel: f.channel,
    installPlanApproval: f.approval,
    name: tile.name,
    source: tile.catalogSource,
    sourceNamespace: tile.catalogSourceNamespace,
  };
  if (f.startingCSV) spec.startingCSV = f.startingCSV;
  return {
    apiVersion: "operators.coreos.com/v1alpha1",
    kind: "Subscription",
    metadata: {
      name: tile.name,
      namespace: f.namespace,
      annotations: { [TARGET_NAMESPACES_ANNOTATION]: targetNamespacesValue(f) },
    },
    spec,
  };
}

/** The packages already subscribed in `namespace` (the shared-namespace caveat applies when any). */
export function sharingNamespace(subscriptions: K8sObject[], namespace: string, pkg: string): string[] {
  return subscriptions
    .filter((s) => s.metadata.namespace === namespace && s.spec?.name !== pkg)
    .map((s) => s.spec?.name ?? s.metadata.name);
}

export interface InstalledOperator {
  key: string;
  namespace: string;
  subscription: K8sObject;
  packageName: string;
  channel: string;
  approval: Approval;
  csvName: string;
  csv?: K8sObject;
  phase: string;
  /** Why it is not Succeeded, from the CSV, the Subscription's conditions or the InstallPlan. */
  problem?: string;
  upgradeAvailable?: string;
  pendingPlan?: K8sObject;
  sourceType: string;
}

function failedCondition(conds: Condition[] | undefined): string | undefined {
  const bad = (conds ?? []).find(
    (c) =>
      c.status === "True" &&
      ["ResolutionFailed", "InstallPlanFailed", "CatalogSourcesUnhealthy", "UpgradeFailed"].includes(c.type),
  );
  return bad ? `${bad.type}: ${bad.message ?? bad.reason ?? ""}` : undefined;
}

/** Joins each Subscription with its CSV and pending InstallPlan. */
export function installedOperators(subs: K8sObject[], csvs: K8sObject[], plans: K8sObject[]): InstalledOperator[] {
  return subs
    .map((sub) => {
      const ns = sub.metadata.namespace ?? "";
      const st = sub.status ?? {};
      const csvName: string = st.installedCSV ?? st.currentCSV ?? sub.spec?.startingCSV ?? "";
      const csv = csvs.find((c) => c.metadata.namespace === ns && c.metadata.name === (st.installedCSV ?? st.currentCSV));
      const planName = st.installPlanRef?.name ?? st.installplan?.name;
      const plan = plans.find((p) => p.metadata.namespace === ns && p.metadata.name === planName);
      const pendingPlan = plan && plan.spec?.approved === false && plan.status?.phase === "RequiresApproval" ? plan : undefined;
      const phase: string = csv?.status?.phase ?? (plan?.status?.phase === "Failed" ? "Failed" : pendingPlan ? "RequiresApproval" : st.state ?? "Pending");
      const problem =
        (csv?.status?.phase === "Failed" ? `${csv.status.reason ?? "Failed"}: ${csv.status.message ?? ""}` : undefined) ??
        failedCondition(st.conditions) ??
        (plan?.status?.phase === "Failed" ? `InstallPlan ${plan.metadata.name} failed: ${plan.status?.message ?? planConditionMessage(plan)}` : undefined);
      const upgradeAvailable =
        st.installedCSV && st.currentCSV && st.currentCSV !== st.installedCSV ? st.currentCSV : undefined;
      return {
        key: `${ns}/${sub.metadata.name}`,
        namespace: ns,
        subscription: sub,
        packageName: sub.spec?.name ?? sub.metadata.name,
        channel: sub.spec?.channel ?? "",
        approval: (sub.spec?.installPlanApproval ?? "Automatic") as Approval,
        csvName,
        csv,
        phase,
        problem,
        upgradeAvailable,
        pendingPlan,
        sourceType: (csv?.metadata.annotations?.["cpaas.io/provider-type"] ?? sub.metadata.labels?.["cpaas.io/provider-type"] ?? "").toLowerCase(),
      };
    })
    .sort((a, b) => a.key.localeCompare(b.key));
}

function planConditionMessage(plan: K8sObject): string {
  const c = (plan.status?.conditions ?? []).find((c: Condition) => c.status === "False" || c.reason === "InstallComponentFailed");
  return c?.message ?? "";
}

/** What an InstallPlan will create: `Kind name` per step (status.plan[].resource). */
export function planComponents(plan: K8sObject): { kind: string; name: string; status: string }[] {
  return (plan.status?.plan ?? []).map((s: any) => ({
    kind: s.resource?.kind ?? "",
    name: s.resource?.name ?? "",
    status: s.status ?? "",
  }));
}

/**
 * The other Subscriptions a shared InstallPlan serves (`cpaas.io/installplan-subscriptions`:
 * `name=csv,...`), with the CSV it installs for each: approving or denying the plan acts on them too.
 */
export function planSharedWith(plan: K8sObject, subscription: string): { subscription: string; csv: string }[] {
  const v: string = plan.metadata?.annotations?.["cpaas.io/installplan-subscriptions"] ?? "";
  return v
    .split(",")
    .map((kv) => kv.split("="))
    .filter(([name, csv]) => name && csv && name !== subscription)
    .map(([name, csv]) => ({ subscription: name, csv }));
}

/** The CRDs an operator owns (what the opt-in cleanup of an uninstall removes). */
export function ownedCrds(csv: K8sObject | undefined): string[] {
  return (csv?.spec?.customresourcedefinitions?.owned ?? []).map((c: any) => c.name).filter(Boolean);
}

/** Alauda operators with an upgrade awaiting approval (Clusters > Features batch upgrade, SPEC §2.4). */
export function batchUpgradable(ops: InstalledOperator[], tilesByName: Map<string, PackageTile>): InstalledOperator[] {
  return ops.filter((o) => {
    const alauda = o.sourceType === "alauda" || tilesByName.get(o.packageName)?.sourceType === "alauda";
    return alauda && o.pendingPlan && o.subscription.status?.installedCSV;
  });
}
