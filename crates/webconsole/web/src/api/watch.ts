// Pure pieces of list + watch: splitting a streamed body into JSON lines and folding events into a
// list. The I/O (fetch + ReadableStream) is in client.ts.
import type { K8sObject, WatchEvent } from "./types";

/** Splits streamed text into complete lines; keeps the unfinished tail for the next chunk. */
export class LineSplitter {
  private tail = "";
  push(chunk: string): string[] {
    const text = this.tail + chunk;
    const parts = text.split("\n");
    this.tail = parts.pop() ?? "";
    return parts.map((l) => l.trim()).filter((l) => l.length > 0);
  }
}

export function parseEvent(line: string): WatchEvent {
  const ev = JSON.parse(line) as WatchEvent;
  if (!ev || typeof ev.type !== "string" || typeof ev.object !== "object") {
    throw new Error(`not a watch event: ${line.slice(0, 120)}`);
  }
  return ev;
}

export function keyOf(o: K8sObject): string {
  return `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

/** The list after one event (a new Map; the old one is not changed). */
export function applyEvent(items: Map<string, K8sObject>, ev: WatchEvent): Map<string, K8sObject> {
  if (ev.type === "BOOKMARK" || ev.type === "ERROR") return items;
  const next = new Map(items);
  const k = keyOf(ev.object);
  if (ev.type === "DELETED") next.delete(k);
  else next.set(k, ev.object);
  return next;
}

/** The resourceVersion to resume from after `ev` (bookmarks included). */
export function resumeVersion(current: string, ev: WatchEvent): string {
  return ev.object?.metadata?.resourceVersion ?? current;
}
