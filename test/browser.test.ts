/**
 * What an operator sees in the Temporal Web UI, in a real browser (Debian's Chromium driven by
 * playwright-core; see ./support/browser.ts): a restore waiting for approval says so on its page
 * and names the `vmware-dr approve` command; and `vmware-dr demo --codec` wires the UI to its
 * codec server, so a history that holds only ciphertext reads decrypted in the browser.
 *
 * Without Chromium these tests fail (they are not skipped), saying how to install it. A failed
 * check leaves a screenshot and the page's text in a temp folder named in the error.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { type Payload, defaultPayloadConverter } from '@temporalio/common';
import type { Browser, Page } from 'playwright-core';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ENCRYPTED_ENCODING } from '../src/codec';
import { type DemoRunning, runDemo } from '../src/cli/demo-run';
import { type RehearsalResult, rehearse } from '../src/rehearsal/index';
import type { RunbookReport } from '../src/contract/runbook/report';
import { approveUpdate, progressQuery } from '../src/contract/messages';
import { launchChromium, pageText, withPage } from './support/browser';
import { payloadsOf } from './support/history';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const restoreExample = join(__dirname, '..', 'examples', 'restore-vc-mgmt.yaml');
/** How long the UI may take to show what a check waits for (it loads and polls in the browser). */
const UI_TIMEOUT_MS = 30_000;

/** The run's page in the UI, then its "User Metadata" tab (where UI 2.x shows Summary and Current Details). */
async function openRunMetadata(page: Page, uiUrl: string, namespace: string, workflowId: string): Promise<void> {
  await page.goto(`${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`, {
    timeout: UI_TIMEOUT_MS,
  });
  // The run's header (its id) once the UI has loaded the run.
  await page.getByText(workflowId, { exact: true }).first().waitFor({ timeout: UI_TIMEOUT_MS });
  await page.getByText('User Metadata', { exact: true }).first().click({ timeout: UI_TIMEOUT_MS });
}

/**
 * Waits until the page (with its frames) shows text matching every pattern; returns that text. The
 * UI reads Current Details once when the tab opens: the page is reloaded every 10 s meanwhile.
 */
async function pageShows(page: Page, patterns: (string | RegExp)[]): Promise<string> {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  let reloadAt = Date.now() + 10_000;
  let text = '';
  const missing = () =>
    patterns.filter((p) => (typeof p === 'string' ? !text.includes(p) : !p.test(text))).map((p) => String(p));
  while (Date.now() < deadline) {
    text = await pageText(page);
    if (missing().length === 0) return text;
    if (Date.now() > reloadAt) {
      await page.reload({ timeout: UI_TIMEOUT_MS }).catch(() => undefined);
      reloadAt = Date.now() + 10_000;
    }
    await sleep(500);
  }
  throw new Error(
    `${page.url()} did not show ${missing().join(', ')} within ${UI_TIMEOUT_MS / 1000}s; it showed:\n${text}`,
  );
}

describe('the Temporal Web UI in Chromium', () => {
  // Launched by the first test that needs it (not in beforeAll: a missing Chromium fails each test,
  // where a failed hook would only mark them skipped).
  let launched: Promise<Browser> | undefined;
  const chromium = () => (launched ??= launchChromium());
  afterAll(async () => {
    await launched?.then((b) => b.close()).catch(() => undefined);
  });

  it('a restore waiting for approval says so on its page and names the approve command', async () => {
    const browser = await chromium();
    const uiUrl = inject('temporalUiUrl');
    if (!uiUrl)
      throw new Error(
        'the test server has no Web UI: global-setup starts the dev server with one; with TEMPORAL_ADDRESS, set TEMPORAL_UI_URL to its UI',
      );
    const address = inject('temporalAddress');
    const namespace = inject('temporalNamespace');
    const connection = await Connection.connect({ address });
    // A second person: the rehearsal starts the run under its own identity (four eyes).
    const checker = new Client({ connection, namespace, identity: 'browser-checker@test' });
    let workflowId: string | undefined;
    let started!: (id: string) => void;
    const startedId = new Promise<string>((resolve) => (started = resolve));
    // The vCenter restore example against a simulated, freshly deployed vCenter: it waits for approval.
    const rehearsal: Promise<RehearsalResult> = rehearse(readFileSync(restoreExample, 'utf8'), {
      temporal: { address, namespace },
      workflowBundle: { codePath: inject('workflowBundlePath') },
      jobSeconds: 1,
      pollIntervalMs: 200,
      onStart: (s) => started(s.workflowId),
    });
    rehearsal.catch(() => undefined); // awaited below; a failure to start ends the race at once
    let approved = false;
    try {
      workflowId = await Promise.race([
        startedId,
        rehearsal.then((): never => {
          throw new Error('the rehearsal ended before its run started');
        }),
      ]);
      const handle = checker.workflow.getHandle(workflowId);
      await expect
        .poll(async () => ((await handle.query(progressQuery)) as RunbookReport).steps[0]?.state, {
          timeout: 30_000,
          interval: 200,
        })
        .toBe('waiting-approval');

      const id = workflowId;
      const shown = await withPage(browser, 'run-waiting-for-approval', async (page) => {
        await openRunMetadata(page, uiUrl, namespace, id);
        // What must stay whatever the wording: step 1.1, that it waits for an approval, the command.
        return pageShows(page, [
          /(?<![-\w])step 1\.1\b/i,
          /\b(?:wait|waits|waiting|awaits|awaiting|needs|pending)\b[^\n]{0,60}\bapprov/i,
          `vmware-dr approve ${id} --step 1.1`,
        ]);
      });
      expect(shown).toContain('Current Details');

      // The second person approves; the restore runs to its end.
      expect(await handle.executeUpdate(approveUpdate, { args: [{ step: '1.1', by: 'browser-checker' }] })).toEqual({
        step: '1.1',
        state: 'approved',
      });
      approved = true;
      expect((await rehearsal).report.outcome).toBe('succeeded');
    } finally {
      if (!approved && workflowId)
        await checker.workflow
          .getHandle(workflowId)
          .terminate('the browser test failed')
          .catch(() => undefined);
      await rehearsal.catch(() => undefined);
      await connection.close();
    }
  }, 120_000);

  it('vmware-dr demo --codec: the history holds only ciphertext; the codec server and the UI wired to it decrypt it', async () => {
    const browser = await chromium();
    const lines: string[] = [];
    let checked = false;
    const hold = async ({ temporal, codec, restore }: DemoRunning): Promise<void> => {
      expect(codec, 'codec mode').toBeDefined();
      expect(temporal.uiUrl, 'the demo starts its dev server with a UI').toBeDefined();
      const uiUrl = temporal.uiUrl!;
      const workflowId = restore.rehearsal.workflowId;
      const summary = 'rehearsal of runbook restore-vc-mgmt against simulated appliances';

      // 1. The raw history (a client without keys): every payload of the run encrypted with the demo's key.
      const connection = await Connection.connect({ address: temporal.address });
      let summaryPayload: Payload;
      let inputPayload: Payload;
      try {
        const raw = new Client({ connection, namespace: temporal.namespace });
        const history = await raw.workflow.getHandle(workflowId).fetchHistory();
        // Except what the SDK's core writes itself into markers: a `patched()` marker's patch id, and a
        // local activity marker's `data` (its sequence number, attempt and type); a local activity's
        // `result` is the worker's payload and is checked like every other.
        const payloads = payloadsOf(history).filter(
          ({ path }) => !/markerRecordedEventAttributes\.details\.(patch-data|data)\./.test(path),
        );
        expect(payloads.length).toBeGreaterThanOrEqual(5);
        for (const { path, payload } of payloads) {
          expect(Buffer.from(payload.metadata?.encoding ?? []).toString(), path).toBe(ENCRYPTED_ENCODING);
          expect(Buffer.from(payload.metadata?.['encryption-key-id'] ?? []).toString(), path).toBe(codec!.encryptKeyId);
        }
        const text = JSON.stringify(history, (_k, v: unknown) =>
          v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
        );
        for (const plaintext of [summary, 'backup.example.com', 'administrator@vsphere.local'])
          expect(text, plaintext).not.toContain(plaintext);
        const startEvent = history.events![0]!;
        summaryPayload = startEvent.userMetadata!.summary! as Payload;
        inputPayload = startEvent.workflowExecutionStartedEventAttributes!.input!.payloads![0]! as Payload;
      } finally {
        await connection.close();
      }

      // 2. The codec server decrypts them for the UI's origin (what the browser's fetch sends).
      const json = (p: Payload) => ({
        metadata: Object.fromEntries(
          Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
        ),
        data: Buffer.from(p.data ?? []).toString('base64'),
      });
      const origin = new URL(uiUrl).origin;
      const res = await fetch(`${codec!.url}/decode`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Namespace': temporal.namespace, Origin: origin },
        body: JSON.stringify({ payloads: [json(summaryPayload), json(inputPayload)] }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      const decoded = (
        (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] }
      ).payloads.map((p): Payload => ({
        metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
        data: Buffer.from(p.data, 'base64'),
      }));
      expect(defaultPayloadConverter.fromPayload(decoded[0]!)).toBe(summary);
      expect(defaultPayloadConverter.fromPayload<{ name: string }>(decoded[1]!).name).toBe('restore-vc-mgmt');

      // 3. The UI, in the browser: the summary and the input read decrypted.
      const browserShown = await withPage(browser, 'demo-codec-run', async (page) => {
        await openRunMetadata(page, uiUrl, temporal.namespace, workflowId);
        const metadata = await pageShows(page, [summary]);
        await page.getByText('Timeline', { exact: true }).first().click({ timeout: UI_TIMEOUT_MS });
        const input = await pageShows(page, ['"name": "restore-vc-mgmt"', 'backup.example.com']);
        return `${metadata}\n${input}`;
      });
      expect(browserShown).not.toContain(ENCRYPTED_ENCODING);
      checked = true;
    };
    const result = await runDemo({ codec: true, jobSeconds: 1, live: false, log: (l) => lines.push(l), hold });
    expect(checked).toBe(true);
    expect(result.backup.report.outcome).toBe('succeeded');
    expect(result.restore.report.outcome).toBe('succeeded');
    const out = lines.join('\n');
    expect(out).toMatch(/Codec server: http:\/\/127\.0\.0\.1:\d+; the Web UI decodes through it/);
    expect(out).toContain(`--ui-codec-endpoint ${result.codec!.url}`);
  }, 180_000);
});
