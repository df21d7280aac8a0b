/**
 * `npm run bench` (`npx tsx bench/run.ts [--quick]`): history growth, orchestration overhead,
 * scale and cost per job, in one run on the embedded dev server and simulator. Writes
 * bench/results.json (stable keys), bench/RESULTS.md and bench/chart.svg.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { format } from 'prettier';
import { installQuietSdkLogger } from '../src/rehearsal';
import { startBenchEnv } from './env';
import { type ScaleMode, type ScaleResult, measureHistory, measureOverhead, measureScale, round } from './measure';
import { type BenchResults, renderChart, renderMarkdown } from './report';

function sizes(value: string): number[] {
  const out = value.split(',').map(Number);
  if (out.some((n) => !Number.isInteger(n) || n < 1))
    throw new InvalidArgumentError('a comma-separated list of whole numbers ≥ 1, e.g. 100,300');
  return out;
}

async function main(): Promise<void> {
  const cmd = new Command('bench')
    .description('history growth, orchestration overhead, scale and cost per job (writes bench/results.*)')
    .option('--quick', 'the CI smoke form (< 2 minutes): one small scale entry')
    .option('--scale <sizes>', 'concurrent runbooks per scale entry (full form default 100,300)', sizes)
    .option('--scale-job-seconds <s>', 'seconds each simulated job takes in the scale runs', Number)
    .option(
      '--render',
      'only render RESULTS.md and chart.svg again from <out>/results.json (after a change to bench/report.ts)',
    )
    .option('--out <dir>', 'where to write results.json, RESULTS.md and chart.svg', __dirname)
    .parse();
  const o = cmd.opts<{ quick?: boolean; render?: boolean; scale?: number[]; scaleJobSeconds?: number; out: string }>();
  if (o.render) {
    const results = JSON.parse(await readFile(join(o.out, 'results.json'), 'utf8')) as BenchResults;
    await writeFile(join(o.out, 'RESULTS.md'), renderMarkdown(results));
    await writeFile(join(o.out, 'chart.svg'), renderChart(results));
    return;
  }
  const quick = o.quick ?? false;
  const scaleSizes = o.scale ?? (quick ? [20] : [100, 300]);
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
    log('(a) history growth and (b) overhead, side by side');
    const [history, overhead] = await Promise.all([measureHistory(env, log), measureOverhead(env, log)]);
    load.push(loadavg());
    const scale: ScaleResult[] = [];
    const { cost, ...overheadFigures } = overhead;
    // Written after every measurement, so a long full run that is stopped keeps what it measured.
    const write = async () => {
      const results: BenchResults = {
        form: quick ? 'quick' : 'full',
        generatedAt: new Date().toISOString(),
        durationSeconds: Math.round((Date.now() - started) / 1000),
        history,
        overhead: overheadFigures,
        scale,
        cost,
        machine: {
          cores: cpus().length,
          cpuModel: cpus()[0]?.model ?? 'unknown',
          memoryGb: round(totalmem() / 2 ** 30, 1),
          node: process.version,
          loadAverage1m: load.map((l) => round(l[0] as number, 2)),
        },
      };
      await mkdir(o.out, { recursive: true });
      const json = await format(JSON.stringify(results), { parser: 'json', printWidth: 120 });
      await writeFile(join(o.out, 'results.json'), json);
      await writeFile(join(o.out, 'RESULTS.md'), renderMarkdown(results));
      await writeFile(join(o.out, 'chart.svg'), renderChart(results));
    };
    await write();
    // The quick form: one small entry with sized slots; the full form compares both modes.
    const modes: ScaleMode[] = quick ? ['heartbeat-sized-slots'] : ['heartbeat-default-slots', 'heartbeat-sized-slots'];
    for (const n of scaleSizes)
      for (const mode of modes) {
        log(`(c) scale: ${n} runbooks, ${mode}`);
        scale.push(await measureScale(env, log, n, mode, scaleJobSeconds));
        load.push(loadavg());
        await write();
      }
    log(
      `wrote ${join(o.out, 'results.json')}, RESULTS.md and chart.svg in ${Math.round((Date.now() - started) / 1000)}s`,
    );
  } finally {
    await env.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
