/** Units with no I/O: the exactly-once start rule and the poll loop, under MockActivityEnvironment. */
import { ActivityCancellationDetails, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { createActivities } from '../activities';
import { type RemoteJobPoll, pollRemoteJob } from '../activities/poll';
import { resolveOptions } from '../activities/options';
import { ApplicationFailure } from '@temporalio/common';
import { TlsConfigError } from '../src/core/tls';
import { type StartSnapshot, type StepRef, asActivity, startOnce } from '../activities/step';
import { RemoteJobFailed, ResourceBusy } from '../src/core/errors';

interface Job {
  id: string;
  at: string;
  failed?: boolean;
}

/** A poll activity body as the products write it: `pollRemoteJob` inside `asActivity`. */
function pollJob<S>(
  o: Partial<RemoteJobPoll<S, S>> & Pick<RemoteJobPoll<S, S>, 'poll' | 'outcome' | 'intervalMs'>,
): Promise<S> {
  return asActivity(resolveOptions({}), () =>
    pollRemoteJob<S, S>({
      label: 'test job',
      details: (s) => ({ s }),
      failure: () => new RemoteJobFailed('job failed', { product: 'vcenter', operation: 'backupJobGet' }),
      result: (s) => s,
      ...o,
    }),
  );
}

/** Like `pollJob`, returning the poll progress (count, resumed-from) as the result. */
function pollRemoteJobWithProgress<S>(
  o: Pick<RemoteJobPoll<S, unknown>, 'poll' | 'outcome' | 'intervalMs'>,
): Promise<unknown> {
  return asActivity(resolveOptions({}), () =>
    pollRemoteJob<S, unknown>({
      label: 'test job',
      details: (s) => ({ s }),
      failure: () => new RemoteJobFailed('job failed', { product: 'vcenter', operation: 'backupJobGet' }),
      result: (_s, progress) => progress,
      ...o,
    }),
  );
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
    const env = new MockActivityEnvironment({
      attempt: 2,
      heartbeatDetails: { known: [], at: Date.now() } satisfies StartSnapshot,
    });
    r.jobs.push({ id: 'ours-failed', at: now(), failed: true });
    const out = await run(env, () => startOnce<Job>(r.options('ok')));
    expect(out.attached).toBe(false);
    expect(r.posts()).toBe(1);
  });
});

describe('pollRemoteJob', () => {
  it('refuses an interval longer than the vCenter idle timeout allows, naming the field', async () => {
    const env = new MockActivityEnvironment();
    const err = (await env
      .run(() => pollJob({ intervalMs: 31 * 60_000, poll: async () => 1, outcome: () => 'succeeded' }))
      .catch((e: unknown) => e)) as ApplicationFailure;
    expect(err.type).toBe('ConfigurationError');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(/pollIntervalMs must be between 1 and 1500000 ms/);
    expect(() => createActivities({ pollIntervalMs: 0 })).toThrow(/pollIntervalMs must be between/);
  });

  it('heartbeats each poll and while sleeping, returns the final state', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 300 });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    let n = 0;
    const final = await env.run(() =>
      pollJob({
        intervalMs: 250,
        poll: async () => ++n,
        outcome: (s) => (s >= 3 ? 'succeeded' : 'running'),
        details: (s) => ({ n: s }),
      }),
    );
    expect(final).toBe(3);
    const polled = beats.filter((b) => b !== undefined);
    expect(polled[0]).toEqual({ n: 1, polls: 1 });
    // A ticker (heartbeat timeout / 3 = 100 ms) keeps heartbeating the last details while sleeping.
    expect(polled.filter((b) => (b as { polls: number }).polls === 1).length).toBeGreaterThanOrEqual(3);
    expect(polled.at(-1)).toEqual({ n: 3, polls: 3 });
  });

  it('keeps heartbeating while a slow request is in flight', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 150, heartbeatDetails: { polls: 7 } });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const result = await env.run(() =>
      pollRemoteJobWithProgress({
        intervalMs: 10,
        poll: () => new Promise<string>((r) => setTimeout(() => r('done'), 400)),
        outcome: () => 'succeeded',
      }),
    );
    // Before the first answer the ticker repeats the previous attempt's details.
    expect(beats.filter((b) => (b as { polls?: number }).polls === 7).length).toBeGreaterThanOrEqual(3);
    expect(beats.at(-1)).toEqual({ s: 'done', polls: 8 });
    expect(result).toEqual({ polls: 8, resumedFromPolls: 7 });
  });

  it('a cancel interrupts the sleep and aborts the in-flight request signal', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 3000 });
    let signal: AbortSignal | undefined;
    const running = env.run(() =>
      pollJob({
        intervalMs: 60_000,
        poll: async (s) => {
          signal = s;
          return 'INPROGRESS';
        },
        outcome: () => 'running',
      }),
    );
    await new Promise((r) => setTimeout(r, 50));
    env.cancel('CANCELLED', new ActivityCancellationDetails({ cancelRequested: true }));
    // It leaves as cancelled (the step workflow then runs the compensation activity).
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    expect(signal?.aborted).toBe(true);
  });

  it('a job that ended failed leaves as the product failure, not retried', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 3000 });
    const err = await env
      .run(() =>
        pollJob({
          intervalMs: 10,
          poll: async () => 'FAILED',
          outcome: () => 'failed',
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('RemoteJobFailed');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
  });
});

describe('every failure leaves through the taxonomy', () => {
  const fail = async (thrown: unknown) =>
    (await new MockActivityEnvironment()
      .run(() =>
        asActivity(resolveOptions({}), async () => {
          throw thrown;
        }),
      )
      .catch((e: unknown) => e)) as ApplicationFailure;

  it('an error nobody classified is a non-retryable InternalError with its stack', async () => {
    const err = await fail(new TypeError("Cannot read properties of undefined (reading 'url')"));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err.type).toBe('InternalError');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('TypeError');
    expect(err.stack).toContain('activity-units.test.ts');
    expect((await fail('a string')).type).toBe('InternalError');
  });

  it('configuration errors (TLS) are non-retryable with a fix', async () => {
    const err = await fail(new TlsConfigError('tls.thumbprint has 40 hex digits, which is a SHA-1 thumbprint'));
    expect(err.type).toBe('ConfigurationError');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(/Fix: .*thumbprint/);
  });

  it('busy stays retryable inside the deadline and ends at it', async () => {
    const step = (deadlineInMs: number): StepRef => ({
      id: 's',
      startedAt: now(),
      deadline: new Date(Date.now() + deadlineInMs).toISOString(),
    });
    const run = async (s: StepRef) =>
      (await new MockActivityEnvironment()
        .run(() =>
          asActivity(
            resolveOptions({ busyRetryDelayMs: 1000 }),
            async () => {
              throw busy();
            },
            s,
          ),
        )
        .catch((e: unknown) => e)) as ApplicationFailure;
    const inside = await run(step(60_000));
    expect(inside.nonRetryable).toBe(false);
    const past = await run(step(500));
    expect(past.nonRetryable).toBe(true);
    expect(past.message).toContain("still busy at the step's deadline");
  });
});
