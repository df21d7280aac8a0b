/** The fault book: validated rules "the next N calls to operation X on appliance Y answer E", consumed per call. */
import type { FaultAction, FaultRule, SimProduct } from './types';

const PRODUCTS: readonly SimProduct[] = ['vcenter', 'sddc-manager', 'vcda', 'nsx-manager'];
const KINDS: readonly FaultAction['kind'][] = [
  'error',
  'status',
  'delay',
  'reset',
  'malformed',
  'schema',
  'jobFailed',
  'lostResponse',
];

const isHttpStatus = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 100 && v <= 599;

/** Armed faults: "the next N calls to operation X on appliance Y answer E". */
export class FaultBook {
  private rules: (FaultRule & { remaining: number })[] = [];

  constructor(rules: FaultRule[] = []) {
    this.add(...rules.map((r) => FaultBook.validate(r)));
  }

  /** Checks a rule from a file or the admin endpoint; the error names the field and the fix. */
  static validate(input: unknown): FaultRule {
    const r = input as Partial<FaultRule> | null;
    if (!r || typeof r !== 'object')
      throw new Error('fault: expected an object {operation, action, product?, appliance?, count?}');
    if (typeof r.operation !== 'string' || !r.operation)
      throw new Error('fault.operation: required, an operation name or "*"');
    if (r.product !== undefined && !PRODUCTS.includes(r.product))
      throw new Error(`fault.product: one of ${PRODUCTS.join(', ')}`);
    if (r.appliance !== undefined && typeof r.appliance !== 'string')
      throw new Error('fault.appliance: an appliance name, e.g. vc-1');
    if (r.count !== undefined && !(typeof r.count === 'number' && Number.isInteger(r.count) && r.count >= 1))
      throw new Error('fault.count: a whole number ≥ 1');
    const a = r.action as Partial<FaultAction> | undefined;
    if (!a || !KINDS.includes(a.kind as FaultAction['kind']))
      throw new Error(`fault.action.kind: one of ${KINDS.join(', ')}`);
    if (a.kind === 'error' && typeof (a as { error?: unknown }).error !== 'string')
      throw new Error('fault.action.error: the product error name, e.g. FEATURE_IN_USE');
    const status = (a as { status?: unknown }).status;
    if ((a.kind === 'status' || status !== undefined) && !isHttpStatus(status))
      throw new Error('fault.action.status: an HTTP status from 100 to 599, e.g. 503');
    const ms = (a as { ms?: unknown }).ms;
    if (a.kind === 'delay' && !(typeof ms === 'number' && Number.isFinite(ms) && ms >= 0))
      throw new Error('fault.action.ms: milliseconds to wait, a number ≥ 0');
    for (const field of ['message', 'error'] as const) {
      const v = (a as Record<string, unknown>)[field];
      if (v !== undefined && typeof v !== 'string') throw new Error(`fault.action.${field}: a string`);
    }
    return r as FaultRule;
  }

  add(...rules: FaultRule[]): void {
    for (const r of rules) this.rules.push({ ...r, remaining: r.count ?? 1 });
  }

  clear(): void {
    this.rules = [];
  }

  list(): (FaultRule & { remaining: number })[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** Consumes one hit of the first rule matching this call. */
  take(product: SimProduct, appliance: string, operation: string): FaultAction | undefined {
    const rule = this.rules.find(
      (r) =>
        r.remaining > 0 &&
        (r.product === undefined || r.product === product) &&
        (r.appliance === undefined || r.appliance === appliance) &&
        (r.operation === '*' || r.operation === operation),
    );
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining === 0) this.rules = this.rules.filter((r) => r !== rule);
    return rule.action;
  }
}
