/** Test helpers for reading workflow histories. */
import type { Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

/** Every string and every decoded byte field of a history, joined. */
export function historyText(value: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('utf8'));
    else if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return out.join('\n');
}

/** Every Payload of a raw history, with where it is; search attributes (indexed, never encoded) apart. */
export function payloadsOf(history: temporal.api.history.v1.IHistory): { path: string; payload: Payload }[] {
  const found: { path: string; payload: Payload }[] = [];
  const walk = (v: unknown, path: string): void => {
    if (!v || typeof v !== 'object' || v instanceof Uint8Array) return;
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${path}[${i}]`));
    const o = v as Record<string, unknown>;
    if (o.metadata && typeof o.metadata === 'object' && 'data' in o && !(o.metadata instanceof Uint8Array)) {
      found.push({ path, payload: o as Payload });
      return;
    }
    for (const [k, x] of Object.entries(o)) if (k !== 'searchAttributes') walk(x, `${path}.${k}`);
  };
  (history.events ?? []).forEach((e, i) => walk(e, `events[${i}](${e.eventType})`));
  return found;
}
