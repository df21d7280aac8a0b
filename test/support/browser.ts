/**
 * Chromium for the browser tests: Debian's `chromium` (or CHROMIUM_PATH) driven by playwright-core,
 * and a page helper that, when a check fails, saves a screenshot and the page's text into a temp
 * folder (never the tree) and names them in the error.
 */
import { accessSync, constants } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';

/** Environment variable naming a Chromium (or Chrome) executable instead of the ones searched. */
export const CHROMIUM_PATH_VARIABLE = 'CHROMIUM_PATH';
/** Executable names searched on PATH (Debian's package installs /usr/bin/chromium). */
const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

/** How to get a Chromium, for the error a test fails with when there is none. */
export const CHROMIUM_INSTALL_HINT =
  `install Debian's Chromium (as root: apt-get install -y --no-install-recommends chromium; .ci/run does this when ` +
  `it is missing), or set ${CHROMIUM_PATH_VARIABLE} to a Chromium or Chrome executable`;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium executable: CHROMIUM_PATH, else the first of {@link CHROMIUM_NAMES} on PATH; throws how to install one. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const given = env[CHROMIUM_PATH_VARIABLE]?.trim();
  if (given) {
    if (executable(given)) return given;
    throw new Error(`${CHROMIUM_PATH_VARIABLE}=${given} is not an executable file: ${CHROMIUM_INSTALL_HINT}`);
  }
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of CHROMIUM_NAMES) for (const dir of dirs) if (executable(join(dir, name))) return join(dir, name);
  throw new Error(
    `the browser tests need Chromium, and none of ${CHROMIUM_NAMES.join(', ')} is on PATH: ${CHROMIUM_INSTALL_HINT}`,
  );
}

/** Launches Chromium headless (without its sandbox, which needs user namespaces a container or root lacks). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  try {
    return await chromium.launch({ executablePath, headless: true, timeout: 60_000 });
  } catch (err) {
    throw new Error(`could not start ${executablePath}: ${(err as Error).message}\n(${CHROMIUM_INSTALL_HINT})`, {
      cause: err,
    });
  }
}

/**
 * Runs `fn` on a new page of `browser`. When it throws, a screenshot and the page's text go to a
 * fresh temp folder, whose path is added to the error; the page is closed either way.
 */
export async function withPage<T>(browser: Browser, name: string, fn: (page: Page) => Promise<T>): Promise<T> {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  try {
    return await fn(page);
  } catch (err) {
    const saved = await saveEvidence(page, name).catch((e: unknown) => `(no screenshot: ${(e as Error).message})`);
    if (err instanceof Error) {
      err.message = `${err.message}\n${saved}`;
      throw err;
    }
    throw new Error(`${String(err)}\n${saved}`);
  } finally {
    await context.close().catch(() => undefined);
  }
}

async function saveEvidence(page: Page, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vmware-dr-browser-'));
  const file = name.replace(/[^A-Za-z0-9._-]+/g, '-');
  const png = join(dir, `${file}.png`);
  await page.screenshot({ path: png, fullPage: true, timeout: 10_000 });
  const text = await pageText(page).catch((e: unknown) => `(no text: ${(e as Error).message})`);
  await writeFile(join(dir, `${file}.txt`), `${page.url()}\n\n${text}`);
  return `screenshot of ${page.url()}: ${png} (its text beside it)`;
}

/**
 * The visible text of a page and of its frames (the Temporal UI renders Markdown, such as a run's
 * summary and Current Details, in iframes of its own).
 */
export async function pageText(page: Page): Promise<string> {
  const texts = await Promise.all(
    page.frames().map((frame) =>
      frame
        .locator('body')
        .innerText({ timeout: 5_000 })
        .catch(() => ''),
    ),
  );
  return texts.join('\n');
}
