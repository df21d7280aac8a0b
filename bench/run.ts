/**
 * `npm run bench` (`npx tsx bench/run.ts [--quick]`): history growth, orchestration overhead,
 * scale and cost per job, in one run on the embedded dev server and simulator. Writes
 * bench/results.json (stable keys), bench/RESULTS.md and bench/chart.svg.
 *
 * `--only scale --scale 1000 --modes retry-as-poll --cache 200` runs selected parts and MERGES
 * them into the results.json already in `--out` (scale entries replace those with the same
 * runbooks, mode, cache and job seconds), so a long entry can be measured on its own while the
 * machine is quiet.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { format } from 'prettier';
import { installQuietSdkLogger } from '../src/rehearsal/index';
import { startBenchEnv } from './env';
import { type HistoryResult, type OverheadResult, measureHistory, measureOverhead, round } from './measure';
import { SCALE_MODES, type ScaleMode, type ScaleResult, measureScale, scaleLabel } from './scale';
import { type BenchResults, renderChart, renderMarkdown } from './report';

const PARTS = ['history', 'overhead', 'scale'] as const;
type Part = (typeof PARTS)[number];

function sizes(value: string): number[] {
  const out = value.split(',').map(Number);
  if (out.some((n) => !Number.isInteger(n) || n < 1))
    throw new InvalidArgumentError('a comma-separated list of whole numbers ≥ 1, e.g. 100,300');
  return out;
}

function parts(value: string): Part[] {
  const out = value.split(',').map((p) => p.trim());
  const bad = out.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (bad.length) throw new InvalidArgumentError(`unknown part ${bad.join(', ')}: use ${PARTS.join(', ')}`);
  return out as Part[];
}

function modes(value: string): ScaleMode[] {
  const out = value.split(',').map((p) => p.trim());
  const bad = out.filter((m) => !(SCALE_MODES as readonly string[]).includes(m));
  if (bad.length) throw new InvalidArgumentError(`unknown mode ${bad.join(', ')}: use ${SCALE_MODES.join(', ')}`);
  return out as ScaleMode[];
}

/** `default` (the SDK's cache size) or a whole number ≥ 2 (`maxCachedWorkflows`). */
function caches(value: string): (number | undefined)[] {
  return value.split(',').map((c) => {
    if (c.trim() === 'default') return undefined;
    const n = Number(c);
    if (!Number.isInteger(n) || n < 2) throw new InvalidArgumentError('a list of default or whole numbers ≥ 2');
    return n;
  });
}

const sameEntry = (a: ScaleResult, b: ScaleResult) =>
  a.runbooks === b.runbooks &&
  a.mode === b.mode &&
  (a.maxCachedWorkflows ?? null) === (b.maxCachedWorkflows ?? null) &&
  (a.maxOldSpaceMb ?? null) === (b.maxOldSpaceMb ?? null) &&
  a.jobSeconds === b.jobSeconds;

async function main(): Promise<void> {
  const cmd = new Command('bench')
    .description('history growth, orchestration overhead, scale and cost per job (writes bench/results.*)')
    .option('--quick', 'the CI smoke form (< 2 minutes): one small scale entry')
    .option('--only <parts>', `run only these parts (${PARTS.join(', ')}; cost comes with overhead) and merge`, parts)
    .option('--scale <sizes>', 'concurrent runbooks per scale entry (full form default 100,300)', sizes)
    .option('--modes <modes>', `scale modes (${SCALE_MODES.join(', ')}); full form default: all`, modes)
    .option(
      '--cache <sizes>',
      "worker maxCachedWorkflows per scale entry: default (the SDK's) or a number, e.g. default,250",
      caches,
    )
    .option(
      '--heap <sizes>',
      "worker V8 old-space limit per scale entry (--max-old-space-size, MB): default (Node's) or a number, e.g. default,512",
      caches,
    )
    .option('--scale-job-seconds <s>', 'seconds each simulated job takes in the scale runs', Number)
    .option(
      '--scale-cap-minutes <m>',
      'stop waiting for a scale entry after this long: runbooks not finished count as failures (unfinished)',
      Number,
    )
    .option(
      '--render',
      'only render RESULTS.md and chart.svg again from <out>/results.json (after a change to bench/report.ts)',
    )
    .option('--out <dir>', 'where to write results.json, RESULTS.md and chart.svg', __dirname)
    .parse();
  const o = cmd.opts<{
    quick?: boolean;
    only?: Part[];
    render?: boolean;
    scale?: number[];
    modes?: ScaleMode[];
    cache?: (number | undefined)[];
    heap?: (number | undefined)[];
    scaleJobSeconds?: number;
    scaleCapMinutes?: number;
    out: string;
  }>();
  const resultsPath = join(o.out, 'results.json');
  if (o.render) {
    const results = JSON.parse(await readFile(resultsPath, 'utf8')) as BenchResults;
    await writeFile(join(o.out, 'RESULTS.md'), renderMarkdown(results));
    await writeFile(join(o.out, 'chart.svg'), renderChart(results));
    return;
  }
  const quick = o.quick ?? false;
  const only = new Set<Part>(o.only ?? PARTS);
  const previous = existsSync(resultsPath)
    ? (JSON.parse(await readFile(resultsPath, 'utf8')) as BenchResults)
    : undefined;
  if ((!only.has('history') || !only.has('overhead')) && !previous)
    throw new Error(
      `--only ${[...only].join(',')} merges into ${resultsPath}, which does not exist: run all parts once`,
    );
  const scaleSizes = o.scale ?? (quick ? [20] : [100, 300]);
  const scaleModes = o.modes ?? (quick ? (['heartbeat-sized-slots'] as ScaleMode[]) : [...SCALE_MODES]);
  const scaleCaches = o.cache ?? [undefined];
  const scaleHeaps = o.heap ?? [undefined];
  const scaleJobSeconds = o.scaleJobSeconds ?? (quick ? 5 : 10);
  const started = Date.now();
  const load = [loadavg()];
  const log = (line: string) =>
    process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(0)}s] ${line}\n`);

  installQuietSdkLogger();
  log('starting the dev server and bundling the workflows');
  // The dev server's own warnings are not the benchmark's.
  const env = await startBenchEnv((l) => !/level=WARN/.test(l) && log(l));
  try {
    let history: HistoryResult | undefined = previous?.history;
    let overhead: OverheadResult | undefined;
    if (quick && only.has('history') && only.has('overhead')) {
      // The CI smoke form measures them side by side to stay short; the full form one after the
      // other, so the overhead is not the naive loop's load.
      log('(a) history growth and (b) overhead, side by side');
      [history, overhead] = await Promise.all([measureHistory(env, log), measureOverhead(env, log, { alone: false })]);
    } else {
      if (only.has('history')) {
        log('(a) history growth');
        history = await measureHistory(env, log);
      }
      if (only.has('overhead')) {
        log('(b) overhead, alone on the machine');
        overhead = await measureOverhead(env, log, { alone: true });
      }
    }
    load.push(loadavg());
    const { cost, ...overheadFigures } = overhead ?? { ...previous!.overhead, cost: previous!.cost };
    const scale: ScaleResult[] = only.has('scale') ? [] : [...(previous?.scale ?? [])];
    const merged = () =>
      only.has('scale')
        ? [...(previous?.scale ?? []).filter((p) => !scale.some((x) => sameEntry(p, x))), ...scale]
        : scale;
    // Written after every measurement, so a long full run that is stopped keeps what it measured.
    const write = async () => {
      const results: BenchResults = {
        form: quick ? 'quick' : 'full',
        generatedAt: new Date().toISOString(),
        durationSeconds: Math.round((Date.now() - started) / 1000),
        history: history!,
        overhead: overheadFigures,
        scale: merged().sort((a, b) => a.runbooks - b.runbooks),
        cost,
        machine: {
          cores: cpus().length,
          cpuModel: cpus()[0]?.model ?? 'unknown',
          memoryGb: round(totalmem() / 2 ** 30, 1),
          node: process.version,
          loadAverage1m: load.map((l) => round(l[0] as number, 2)),
        },
        runs: [
          ...(o.only && previous ? (previous.runs ?? []) : []),
          {
            at: new Date(started).toISOString(),
            parts: [...only],
            durationSeconds: Math.round((Date.now() - started) / 1000),
            loadAverage1m: load.map((l) => round(l[0] as number, 2)),
          },
        ],
      };
      await mkdir(o.out, { recursive: true });
      const json = await format(JSON.stringify(results), { parser: 'json', printWidth: 120 });
      await writeFile(resultsPath, json);
      await writeFile(join(o.out, 'RESULTS.md'), renderMarkdown(results));
      await writeFile(join(o.out, 'chart.svg'), renderChart(results));
    };
    if (!only.has('scale') || !o.only) await write();
    if (only.has('scale'))
      for (const n of scaleSizes)
        for (const mode of scaleModes)
          for (const maxCachedWorkflows of scaleCaches)
            for (const maxOldSpaceMb of scaleHeaps) {
              const label = scaleLabel({ mode, maxCachedWorkflows: maxCachedWorkflows ?? null, maxOldSpaceMb });
              log(`(c) scale: ${n} runbooks, ${label}`);
              scale.push(
                await measureScale(env, log, n, mode, scaleJobSeconds, {
                  maxCachedWorkflows,
                  maxOldSpaceMb,
                  ...(o.scaleCapMinutes !== undefined && { capMinutes: o.scaleCapMinutes }),
                }),
              );
              load.push(loadavg());
              await write();
            }
    log(`wrote ${resultsPath}, RESULTS.md and chart.svg in ${Math.round((Date.now() - started) / 1000)}s`);
  } finally {
    await env.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
