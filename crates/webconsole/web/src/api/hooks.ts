import { useEffect, useState } from "react";
import { listAndWatch, type ListState } from "./client";
import type { Resource } from "./types";

/** A live list: list + watch of `r` in `cluster`, re-subscribed when the arguments change. */
export function useWatch(cluster: string | null, r: Resource, namespace?: string, labelSelector?: string): ListState {
  const [state, setState] = useState<ListState>({ items: [], loaded: false });
  useEffect(() => {
    setState({ items: [], loaded: false });
    if (!cluster) return;
    return listAndWatch(cluster, r, setState, { namespace, labelSelector });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [cluster, r.group, r.plural, namespace, labelSelector]);
  return state;
}
