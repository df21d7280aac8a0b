/** Units with no I/O: the exactly-once start rule and the poll loop, under MockActivityEnvironment. */
import { ActivityCancellationDetails } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { createActivities } from '../activities';
import { pollUntilDone } from '../activities/poll';
import { type StartSnapshot, type StepRef, startOnce } from '../activities/step';
import { ResourceBusy } from '../src/errors';

interface Job {
  id: string;
  at: string;
  failed?: boolean;
}

/** `MockActivityEnvironment.run` with the result type kept. */
function run<T>(env: MockActivityEnvironment, fn: () => Promise<T>): Promise<T> {
  return env.run(fn) as Promise<T>;
}

const step: StepRef = { id: 'wf/step/a', startedAt: new Date(Date.now() - 5000).toISOString() };
const now = () => new Date().toISOString();
const busy = () => new ResourceBusy('busy', { product: 'vcenter', operation: 'backupJobCreate' });

function remote(initial: Job[] = []) {
  const jobs = [...initial];
  let posts = 0;
  return {
    jobs,
    posts: () => posts,
    options: (startBehaviour: 'ok' | 'lost' | 'busy') => ({
      step,
      recent: async () => [...jobs],
      id: (j: Job) => j.id,
      createdAt: (j: Job) => j.at,
      attachable: (j: Job) => !j.failed,
      start: async () => {
        posts += 1;
        if (startBehaviour === 'busy') throw busy();
        const job = { id: `job-${jobs.length + 1}`, at: now() };
        jobs.push(job);
        if (startBehaviour === 'lost') throw new Error('socket hang up');
        return job;
      },
    }),
  };
}

describe('startOnce (exactly one remote job per step)', () => {
  it('first attempt: snapshots the recent jobs into heartbeat details, then POSTs', async () => {
    const r = remote([{ id: 'old', at: now() }]);
    const env = new MockActivityEnvironment({ attempt: 1 });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const out = await run(env, () => startOnce<Job>(r.options('ok')));
    expect(out).toEqual({ job: { id: 'job-2', at: expect.any(String) }, attached: false });
    expect(beats).toEqual([{ known: ['old'], at: expect.any(Number) }]);
    expect(r.posts()).toBe(1);
  });

  it('retry after a lost answer: attaches to the job not in the snapshot, no second POST', async () => {
    const r = remote([{ id: 'old', at: now() }]);
    const env1 = new MockActivityEnvironment({ attempt: 1 });
    let snapshot: StartSnapshot | undefined;
    env1.on('heartbeat', (d: StartSnapshot) => (snapshot = d));
    await expect(env1.run(() => startOnce(r.options('lost')))).rejects.toThrow('socket hang up');
    const env2 = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: snapshot });
    const out = await run(env2, () => startOnce<Job>(r.options('ok')));
    expect(out.attached).toBe(true);
    expect(out.job.id).toBe('job-2');
    expect(r.posts()).toBe(1);
  });

  it('busy because of a job that was running before our POST: stays busy', async () => {
    const r = remote([{ id: 'theirs', at: now() }]);
    const env = new MockActivityEnvironment({ attempt: 1 });
    await expect(env.run(() => startOnce(r.options('busy')))).rejects.toBeInstanceOf(ResourceBusy);
  });

  it('a failed job of ours is not attached to: the retry POSTs again', async () => {
    const r = remote([]);
    const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { known: [], at: Date.now() } satisfies StartSnapshot });
    r.jobs.push({ id: 'ours-failed', at: now(), failed: true });
    const out = await run(env, () => startOnce<Job>(r.options('ok')));
    expect(out.attached).toBe(false);
    expect(r.posts()).toBe(1);
  });
});

describe('pollUntilDone', () => {
  it('refuses an interval longer than the vCenter idle timeout allows, naming the field', async () => {
    const env = new MockActivityEnvironment();
    await expect(env.run(() => pollUntilDone({ intervalMs: 31 * 60_000, poll: async () => 1, isDone: () => true, details: () => ({}) }))).rejects.toThrow(
      /pollIntervalMs must be between 1 and 1500000 ms/,
    );
    expect(() => createActivities({ pollIntervalMs: 0 })).toThrow(/pollIntervalMs must be between/);
  });

  it('heartbeats each poll and while sleeping, returns the final state', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 300 });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    let n = 0;
    const final = await env.run(() =>
      pollUntilDone({ intervalMs: 250, poll: async () => ++n, isDone: (s) => s >= 3, details: (s) => ({ polls: s }) }),
    );
    expect(final).toBe(3);
    expect(beats[0]).toEqual({ polls: 1 });
    // A ticker (heartbeat timeout / 3 = 100 ms) keeps heartbeating the last details while sleeping.
    expect(beats.filter((b) => (b as { polls: number }).polls === 1).length).toBeGreaterThanOrEqual(3);
    expect(beats.at(-1)).toEqual({ polls: 3 });
  });

  it('keeps heartbeating while a slow request is in flight', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 150, heartbeatDetails: { resumed: true } });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    await env.run(() =>
      pollUntilDone({ intervalMs: 10, poll: () => new Promise((r) => setTimeout(() => r('done'), 400)), isDone: () => true, details: () => ({ polls: 1 }) }),
    );
    // Before the first answer the ticker repeats the previous attempt's details.
    expect(beats.filter((b) => (b as { resumed?: boolean }).resumed).length).toBeGreaterThanOrEqual(3);
    expect(beats.at(-1)).toEqual({ polls: 1 });
  });

  it('a cancel interrupts the sleep and aborts the in-flight request signal', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 3000 });
    let signal: AbortSignal | undefined;
    const running = env.run(() =>
      pollUntilDone({
        intervalMs: 60_000,
        poll: async (s) => {
          signal = s;
          return 'INPROGRESS';
        },
        isDone: () => false,
        details: (s) => ({ s }),
      }),
    );
    await new Promise((r) => setTimeout(r, 50));
    env.cancel('CANCELLED', new ActivityCancellationDetails({ cancelRequested: true }));
    await expect(running).rejects.toThrow();
    expect(signal?.aborted).toBe(true);
  });
});
