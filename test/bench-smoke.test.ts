/** The benchmark's report rendering (pure): goals marked from the figures, the chart drawn from them. */
import { describe, expect, it } from 'vitest';
import { type BenchResults, renderChart, renderMarkdown } from '../bench/report';

function results(over: Partial<BenchResults> = {}): BenchResults {
  return {
    form: 'full',
    generatedAt: '2026-12-02T00:00:00.000Z',
    durationSeconds: 600,
    history: {
      pollIntervalMs: 50,
      jobSeconds: { short: 1, long: 30 },
      ours: { short: 36, long: 36, workflow: 'vcenterBackup' },
      naive: {
        short: 150,
        long: 3600,
        polls: { short: 12, long: 300 },
        slopeEventsPerJobSecond: 119,
        eventsPerPoll: 12,
      },
    },
    overhead: { ratio: 1.02, runbookWallMs: 30_600, scriptWallMs: 30_000, pollIntervalMs: 1000, jobSeconds: 10 },
    scale: [
      {
        runbooks: 300,
        failures: 0,
        runbooksPerMinute: 40,
        p50LagMs: 9000,
        p95LagMs: 20_000,
        peakRssMb: 500,
        idleRssMb: 240,
        cpuSecondsPerRunbook: 0.5,
        mode: 'heartbeat-default-slots',
        activitySlots: 100,
        wallMs: 450_000,
        jobSeconds: 10,
        pollIntervalMs: 1000,
        maxLagMs: 30_000,
      },
      {
        runbooks: 300,
        failures: 2,
        runbooksPerMinute: 120,
        p50LagMs: 600,
        p95LagMs: 900,
        peakRssMb: 1500,
        idleRssMb: 240,
        cpuSecondsPerRunbook: 0.5,
        mode: 'heartbeat-sized-slots',
        activitySlots: 1200,
        wallMs: 150_000,
        jobSeconds: 10,
        pollIntervalMs: 1000,
        maxLagMs: 1500,
      },
    ],
    cost: {
      requestsPerJob: 20,
      bytesPerJob: 9000,
      connectionsPerAppliance: 1,
      loginsPerRunbook: 4,
      requestsByOperation: { backupJobGet: 30 },
      jobs: 4,
    },
    machine: { cores: 2, cpuModel: 'x', memoryGb: 24, node: 'v20', loadAverage1m: [1, 2] },
    ...over,
  };
}

describe('bench report', () => {
  it('marks each goal met or missed from the figures', () => {
    const md = renderMarkdown(results());
    expect(md).toContain('Ours is the same for both durations: ✅ met (36 vs 36 events)');
    expect(md).toContain('Ours ≤ 40 events per step: ✅ met');
    expect(md).toMatch(/\| 30\.6 s \| 30\.0 s \| 1\.02 \| ✅ met \|/);
    expect(md).toContain('119 events per second of job');
    // default slots: lag p95 20 s missed, RSS met; sized: 2 failures and 1.5 GB missed, lag met.
    expect(md).toMatch(/heartbeat-default-slots \| 100 \| 0 ✅ .*20\.0 s ❌.*500 MB ✅/);
    expect(md).toMatch(/heartbeat-sized-slots \| 1200 \| 2 ❌ .*0\.9 s ✅.*1500 MB ❌/);
  });

  it('explains a missed overhead goal and a history that grows', () => {
    const md = renderMarkdown(
      results({
        overhead: { ratio: 1.2, runbookWallMs: 36_000, scriptWallMs: 30_000, pollIntervalMs: 1000, jobSeconds: 10 },
        history: { ...results().history, ours: { short: 36, long: 50, workflow: 'vcenterBackup' } },
      }),
    );
    expect(md).toContain('| 1.2 | ❌ missed |');
    expect(md).toContain('Cause: the runbook spends 6.0 s more');
    expect(md).toContain('Ours is the same for both durations: ❌ missed (36 vs 50 events)');
    expect(md).toContain('Ours ≤ 40 events per step: ❌ missed');
  });

  it('reports the events per runbook against a third of the 138 before quiet history, or says they were not measured', () => {
    const runbook = {
      events: 46,
      stepProgressSignals: 0,
      workflowTasks: 9,
      stepEvents: [40, 40, 40, 34],
      jobSeconds: 3,
      pollIntervalMs: 500,
    };
    const md = renderMarkdown(results({ history: { ...results().history, runbook } }));
    expect(md).toContain('### Events per runbook');
    expect(md).toContain('| 46 | 0 | 9 | 40 / 40 / 40 / 34 |');
    expect(md).toContain('Runbook ≤ 46 events, a third of the 138 before quiet history');
    expect(md).toContain(': ✅ met (46 events, 3.0× fewer)');
    const noisy = renderMarkdown(
      results({ history: { ...results().history, runbook: { ...runbook, events: 138, stepProgressSignals: 20 } } }),
    );
    expect(noisy).toContain(': ❌ missed (138 events, 1.0× fewer)');
    expect(renderMarkdown(results())).toContain('Not measured in these results');
  });

  it('draws bars proportional to the figures, values as labels', () => {
    const svg = renderChart(results());
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    // The tallest (a) bar is the naive long job at the full 220 px; ours is 36/3600 of it.
    expect(svg).toContain('height="220.0" fill="#d95f02"');
    expect(svg).toContain('height="2.2" fill="#2b7bb9"');
    // (c): sized slots (120/min) are the full height, default slots (40/min) a third.
    expect(svg).toContain('height="220.0" fill="#1b9e77"');
    expect(svg).toContain('height="73.3" fill="#999999"');
    expect(svg).toContain('p95 20.0s');
  });
});
