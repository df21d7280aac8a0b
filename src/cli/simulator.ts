/** `vmware-dr simulator`: serve simulated appliances until SIGTERM; print one JSON line describing them. */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { FaultBook } from '../simulator/faults';
import type * as Cert from '../simulator/cert';
import type * as Server from '../simulator/server';
import type { SimulatorCredentials } from '../simulator/server';
import { load } from './load';
import type { FaultRule } from '../simulator/types';

interface SimulatorFlags {
  port: number;
  host?: string;
  http?: boolean;
  vcenters: number;
  sddcManagers: number;
  vcdas: number;
  nsxManagers: number;
  jobSeconds: number;
  faults?: string;
  password?: string;
  credentials?: string;
  certName?: string[];
  certDir?: string;
}

/** A parser for a whole-number flag ≥ min; the message names the flag. */
function wholeNumber(flag: string, min = 0): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`--${flag} must be a whole number ≥ ${min}, got "${value}"`);
    return n;
  };
}

function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0))
    throw new InvalidArgumentError(`--job-seconds must be a number of seconds ≥ 0, got "${value}"`);
  return n;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A JSON (`.json`) or YAML file. */
async function readDocument(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  return file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
}

async function readFaults(file: string): Promise<FaultRule[]> {
  const parsed = await readDocument(file);
  return (Array.isArray(parsed) ? parsed : [parsed]).map((f, i) => {
    try {
      return FaultBook.validate(f);
    } catch (err) {
      throw new Error(`--faults ${file}: entry ${i}: ${(err as Error).message}`);
    }
  });
}

/** `{password?, appliances?: {"vcenter/vc-1": "…"}}` from a file; the server checks the names. */
async function readCredentials(file: string): Promise<SimulatorCredentials> {
  const doc = (await readDocument(file)) as Record<string, unknown> | null;
  const bad = (why: string): Error => new Error(`--credentials ${file}: ${why}`);
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw bad('expected an object {password?, appliances?: {"vcenter/vc-1": "…"}}');
  const unknown = Object.keys(doc).filter((k) => k !== 'password' && k !== 'appliances');
  if (unknown.length) throw bad(`unknown field(s) ${unknown.join(', ')}; expected password and/or appliances`);
  if (doc.password !== undefined && typeof doc.password !== 'string') throw bad('password: a string');
  const appliances = doc.appliances;
  if (appliances !== undefined) {
    if (!appliances || typeof appliances !== 'object' || Array.isArray(appliances))
      throw bad('appliances: an object {"<product>/<name>": "<password>"}');
    for (const [key, value] of Object.entries(appliances))
      if (typeof value !== 'string') throw bad(`appliances["${key}"]: a string`);
  }
  return { password: doc.password, appliances: appliances as Record<string, string> | undefined };
}

async function runSimulator(flags: SimulatorFlags, command: Command): Promise<void> {
  if (flags.http && (flags.certName || flags.certDir))
    command.error(`error: ${flags.certName ? '--cert-name' : '--cert-dir'} needs HTTPS; drop --http`, {
      exitCode: 2,
      code: 'vmware-dr.conflictingOptions',
    });
  let caFile: string | undefined;
  if (flags.certDir) {
    const cert = load<typeof Cert>('../simulator/cert');
    const dir = resolve(flags.certDir);
    cert.keepPkiIn(dir);
    caFile = join(dir, cert.PKI_FILES.caCert);
  }
  const faults = flags.faults ? await readFaults(flags.faults) : [];
  const fromFile = flags.credentials ? await readCredentials(flags.credentials) : undefined;
  const credentials: SimulatorCredentials | undefined =
    fromFile || flags.password !== undefined
      ? { ...fromFile, ...(flags.password !== undefined && { password: flags.password }) }
      : undefined;
  const sim = await load<typeof Server>('../simulator/server').startSimulator({
    port: flags.port,
    host: flags.host,
    http: flags.http ?? false,
    vcenters: flags.vcenters,
    sddcManagers: flags.sddcManagers,
    vcdas: flags.vcdas,
    nsxManagers: flags.nsxManagers,
    jobSeconds: flags.jobSeconds,
    faults,
    credentials,
    certNames: flags.certName ?? [],
  });
  // With --cert-dir the CA others should trust is the kept file, not the server's temporary copy.
  const info = caFile
    ? {
        ...sim.info,
        caFile,
        vcenter: sim.info.vcenter.map((a) => ({ ...a, caFile })),
        sddcManager: sim.info.sddcManager.map((a) => ({ ...a, caFile })),
        vcda: sim.info.vcda.map((a) => ({ ...a, caFile })),
        ...(sim.info.nsxManager && { nsxManager: sim.info.nsxManager.map((a) => ({ ...a, caFile })) }),
      }
    : sim.info;
  process.stdout.write(`${JSON.stringify(info)}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await sim.close();
}

export function registerSimulator(program: Command): void {
  program
    .command('simulator')
    .description(
      'Serve simulated vCenters, SDDC Managers and VCDA appliances on one port until SIGTERM; print one JSON line with their URLs and credentials.',
    )
    .addOption(new Option('--port <n>', 'port to listen on (0: a free port)').argParser(wholeNumber('port')).default(0))
    .option('--host <addr>', 'address to listen on, 0.0.0.0 in a container (default: 127.0.0.1)')
    .option('--http', 'plain HTTP instead of HTTPS with a fresh CA')
    .addOption(new Option('--vcenters <n>', 'simulated vCenters').argParser(wholeNumber('vcenters')).default(1))
    .addOption(
      new Option('--sddc-managers <n>', 'simulated SDDC Managers').argParser(wholeNumber('sddc-managers')).default(0),
    )
    .addOption(new Option('--vcdas <n>', 'simulated VCDA appliances').argParser(wholeNumber('vcdas')).default(0))
    .addOption(
      new Option('--nsx-managers <n>', 'simulated NSX Managers').argParser(wholeNumber('nsx-managers')).default(0),
    )
    .addOption(new Option('--job-seconds <s>', 'how long a job or task takes').argParser(seconds).default(5))
    .option('--faults <file>', 'JSON or YAML list of faults to arm from the start')
    .addOption(
      new Option(
        '--password <password>',
        'one fixed password for every appliance (default: random per appliance; visible in ps, prefer the environment variable or --credentials)',
      ).env('VMWARE_DR_SIMULATOR_PASSWORD'),
    )
    .option('--credentials <file>', 'JSON or YAML {password?, appliances?: {"vcenter/vc-1": "…"}} with fixed passwords')
    .addOption(
      new Option(
        '--cert-name <name>',
        'extra DNS name or IP the certificate is valid for, e.g. a compose service name (repeatable)',
      ).argParser(collect),
    )
    .option(
      '--cert-dir <dir>',
      'keep the CA and server certificate in DIR (ca.pem, ca-key.pem, server.pem, server-key.pem): reused across restarts, so other machines can trust DIR/ca.pem',
    )
    .addHelpText(
      'after',
      '\nThe certificate always covers 127.0.0.1, ::1, localhost and --host (unless a wildcard address).\n' +
        'With --cert-dir the CA is kept and the certificate is reissued only when a --cert-name is new or it expires soon.\n',
    )
    .action(runSimulator);
}
