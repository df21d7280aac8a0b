/** The freshness rating, options and duration helpers: pure, no server. */
import { describe, expect, it } from 'vitest';
import { formatDurationText as formatDuration } from '../src/contract/duration';
import {
  FreshnessOptions,
  compileFreshnessSlo,
  rateFreshness,
  summariseAttempts,
  worstRating,
} from '../src/contract/freshness';
import { checkInput } from '../src/contract/inputs';

const H = 3_600_000;
const NOW = Date.parse('2026-12-02T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const slo = compileFreshnessSlo({ maxAge: '26h' });

describe('rateFreshness', () => {
  it('green within amberAfter (default 75 % of maxAge)', () => {
    expect(slo).toEqual({ maxAgeMs: 26 * H, amberAfterMs: 19.5 * H });
    const r = rateFreshness({ lastSuccessAt: ago(2 * H) }, slo, NOW);
    expect(r).toMatchObject({ rating: 'green', ageMs: 2 * H });
    expect(r.reason).toMatch(/2h old/);
  });

  it('amber past amberAfter, red past maxAge; the bounds themselves are still the better rating', () => {
    expect(rateFreshness({ lastSuccessAt: ago(20 * H) }, slo, NOW).rating).toBe('amber');
    expect(rateFreshness({ lastSuccessAt: ago(19.5 * H) }, slo, NOW).rating).toBe('green');
    expect(rateFreshness({ lastSuccessAt: ago(26 * H) }, slo, NOW).rating).toBe('amber');
    const red = rateFreshness({ lastSuccessAt: ago(27 * H) }, slo, NOW);
    expect(red).toMatchObject({ rating: 'red', ageMs: 27 * H });
    expect(red.reason).toMatch(/1d3h old, over the maximum of 1d2h/);
  });

  it('red without any successful backup', () => {
    expect(rateFreshness({}, slo, NOW)).toEqual({ rating: 'red', reason: 'no successful backup found' });
  });

  it('red when a failure is newer than the last success, however recent the success', () => {
    const r = rateFreshness({ lastSuccessAt: ago(2 * H), lastFailureAt: ago(1 * H) }, slo, NOW);
    expect(r).toMatchObject({ rating: 'red', ageMs: 2 * H });
    expect(r.reason).toMatch(/the last backup run failed/);
    expect(rateFreshness({ lastFailureAt: ago(1 * H) }, slo, NOW).reason).toMatch(/no successful backup/);
  });

  it('an older failure does not count once a later backup succeeded', () => {
    expect(rateFreshness({ lastSuccessAt: ago(1 * H), lastFailureAt: ago(30 * H) }, slo, NOW).rating).toBe('green');
  });

  it('a success stamped in the future (clock skew) has age 0', () => {
    expect(rateFreshness({ lastSuccessAt: ago(-60_000) }, slo, NOW)).toMatchObject({ rating: 'green', ageMs: 0 });
  });

  it('explicit amberAfter', () => {
    const s = compileFreshnessSlo({ maxAge: '10h', amberAfter: '1h' });
    expect(rateFreshness({ lastSuccessAt: ago(2 * H) }, s, NOW).rating).toBe('amber');
  });
});

describe('summariseAttempts', () => {
  it('newest success and failure; a running attempt is the last attempt but never a success', () => {
    const s = summariseAttempts([
      { at: ago(30 * H), status: 'FAILED', outcome: 'failed' },
      { at: ago(3 * H), status: 'SUCCEEDED', outcome: 'succeeded' },
      { at: ago(1 * H), status: 'RUNNING', outcome: 'running' },
      { at: ago(5 * H), status: 'SUCCEEDED', outcome: 'succeeded' },
      { at: 'not a time', status: 'SUCCEEDED', outcome: 'succeeded' },
    ]);
    expect(s).toEqual({
      lastSuccessAt: ago(3 * H),
      lastFailureAt: ago(30 * H),
      lastAttempt: { at: ago(1 * H), status: 'RUNNING', outcome: 'running' },
    });
    expect(rateFreshness(s, slo, NOW).rating).toBe('green');
  });

  it('nothing at all', () => {
    expect(summariseAttempts([])).toEqual({});
  });
});

describe('worstRating, options, durations', () => {
  it('worst of the ratings; green for none', () => {
    expect(worstRating([])).toBe('green');
    expect(worstRating(['green', 'amber', 'green'])).toBe('amber');
    expect(worstRating(['amber', 'red', 'green'])).toBe('red');
  });

  it('FreshnessOptions: strict, durations checked, amberAfter not past maxAge, all problems at once', () => {
    const check = checkInput('freshness options', FreshnessOptions, {
      maxAge: '26 hours',
      amberAfter: '0s',
      maxage: '1h',
    });
    expect(check.ok).toBe(false);
    expect(check.ok ? [] : check.problems.map((p) => p.path).sort()).toEqual(['amberAfter', 'maxAge', 'maxage']);
    const late = checkInput('freshness options', FreshnessOptions, { maxAge: '2h', amberAfter: '3h' });
    expect(late.ok ? '' : late.message).toMatch(/amberAfter: must not be longer than maxAge \(2h\)/);
    expect(checkInput('o', FreshnessOptions, {}).ok).toBe(true);
  });

  it('formatDuration: two largest units', () => {
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(26 * H)).toBe('1d2h');
    expect(formatDuration(2 * H)).toBe('2h');
  });
});
