/** `vmware-dr`: demo, simulator, worker and Temporal CLI management. */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { runWorker } from '../worker/main';
import { runDemo } from './demo';
import { FaultBook } from './simulator/faults';
import { startSimulator } from './simulator/server';
import { resolveTemporalServer } from './temporal/resolve-cli';

const USAGE = `Usage: vmware-dr <command> [options]

Commands:
  demo                      Start a dev server, the simulator and a worker; run one vCenter backup.
  simulator [options]       Serve simulated appliances until SIGTERM; prints one JSON line.
      --port N              Port (default: a free port)
      --host ADDR           Address to listen on (default 127.0.0.1; 0.0.0.0 in a container)
      --http                Plain HTTP instead of HTTPS with a fresh CA
      --vcenters N          Simulated vCenters (default 1)
      --sddc-managers N     Simulated SDDC Managers (default 0)
      --vcdas N             Simulated VCDA appliances (default 0)
      --job-seconds S       How long a job or task takes (default 5)
      --faults FILE         JSON or YAML list of faults to arm
  worker                    Run a worker (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, VMWARE_DR_TASK_QUEUE).
  temporal install          Find or install the Temporal CLI; print its path.
`;

/** A whole number ≥ min from a flag, or an error naming the flag. */
function count(flag: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} must be a whole number ≥ ${min}, got "${value}"`);
  return n;
}

async function simulatorCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      http: { type: 'boolean' },
      vcenters: { type: 'string' },
      'sddc-managers': { type: 'string' },
      vcdas: { type: 'string' },
      'job-seconds': { type: 'string' },
      faults: { type: 'string' },
    },
    strict: true,
  });
  const jobSeconds = values['job-seconds'] === undefined ? 5 : Number(values['job-seconds']);
  if (!(jobSeconds >= 0)) throw new Error(`--job-seconds must be a number of seconds ≥ 0, got "${values['job-seconds']}"`);
  let faults: unknown[] = [];
  if (values.faults) {
    const text = await readFile(values.faults, 'utf8');
    const parsed: unknown = values.faults.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    faults = (Array.isArray(parsed) ? parsed : [parsed]).map((f, i) => {
      try {
        return FaultBook.validate(f);
      } catch (err) {
        throw new Error(`--faults ${values.faults}: entry ${i}: ${(err as Error).message}`);
      }
    });
  }
  const sim = await startSimulator({
    port: count('port', values.port, 0),
    host: values.host,
    http: values.http ?? false,
    vcenters: count('vcenters', values.vcenters, 1),
    sddcManagers: count('sddc-managers', values['sddc-managers'], 0),
    vcdas: count('vcdas', values.vcdas, 0),
    jobSeconds,
    faults: faults as never,
  });
  process.stdout.write(`${JSON.stringify(sim.info)}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await sim.close();
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'demo':
        await runDemo();
        break;
      case 'simulator':
        await simulatorCommand(rest);
        break;
      case 'worker':
        await runWorker();
        break;
      case 'temporal': {
        if (rest[0] !== 'install') throw new Error('usage: vmware-dr temporal install');
        const source = await resolveTemporalServer({ log: (l) => console.error(l) });
        console.log(source.kind === 'binary' ? source.path : source.kind === 'address' ? `TEMPORAL_ADDRESS=${source.address}` : 'sdk-download');
        break;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        break;
      default:
        throw new Error(`unknown command "${command}"\n\n${USAGE}`);
    }
  } catch (err) {
    console.error(`vmware-dr: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then(() => {
    // Native handles (Temporal runtime) can keep the loop alive after a finished command.
    if (process.argv[2] !== 'simulator') process.exit(process.exitCode ?? 0);
  });
}
