import type { Product } from '../errors';
import type { FaultAction, FaultRule } from './types';

const PRODUCTS: readonly Product[] = ['vcenter', 'sddc-manager', 'vcda'];
const KINDS: readonly FaultAction['kind'][] = ['error', 'status', 'delay', 'reset', 'malformed', 'schema', 'jobFailed', 'lostResponse'];

/** Armed faults: "the next N calls to operation X on appliance Y answer E". */
export class FaultBook {
  private rules: (FaultRule & { remaining: number })[] = [];

  constructor(rules: FaultRule[] = []) {
    this.add(...rules.map((r) => FaultBook.validate(r)));
  }

  /** Checks a rule from a file or the admin endpoint; the error names the field and the fix. */
  static validate(input: unknown): FaultRule {
    const r = input as Partial<FaultRule> | null;
    if (!r || typeof r !== 'object') throw new Error('fault: expected an object {operation, action, product?, appliance?, count?}');
    if (typeof r.operation !== 'string' || !r.operation) throw new Error('fault.operation: required, an operation name or "*"');
    if (r.product !== undefined && !PRODUCTS.includes(r.product)) throw new Error(`fault.product: one of ${PRODUCTS.join(', ')}`);
    if (r.count !== undefined && (!Number.isInteger(r.count) || r.count < 1)) throw new Error('fault.count: a whole number ≥ 1');
    const a = r.action as Partial<FaultAction> | undefined;
    if (!a || !KINDS.includes(a.kind as FaultAction['kind'])) throw new Error(`fault.action.kind: one of ${KINDS.join(', ')}`);
    if (a.kind === 'error' && typeof (a as { error?: unknown }).error !== 'string') throw new Error('fault.action.error: the product error name, e.g. FEATURE_IN_USE');
    if (a.kind === 'status' && !Number.isInteger((a as { status?: unknown }).status)) throw new Error('fault.action.status: an HTTP status, e.g. 503');
    if (a.kind === 'delay' && !Number.isFinite((a as { ms?: unknown }).ms)) throw new Error('fault.action.ms: milliseconds to wait');
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
  take(product: Product, appliance: string, operation: string): FaultAction | undefined {
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
