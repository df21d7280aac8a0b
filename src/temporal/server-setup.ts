/**
 * A Temporal server made ready for this project's runs: wait until it answers for the namespace,
 * then register the search attributes it lacks. Used by dev-server.ts for a started server and
 * for one at `TEMPORAL_ADDRESS`.
 */
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/** A search attribute's type, as `temporal server start-dev --search-attribute NAME=TYPE` names it. */
export type DevServerSearchAttributeType = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

const INDEXED_VALUE_TYPE: Record<DevServerSearchAttributeType, temporal.api.enums.v1.IndexedValueType> = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Text: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Datetime: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KeywordList: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/**
 * A connection to the server at `address` once it answers for `namespace`, tried every 250 ms
 * until `deadline`; fails at once when the server's process (`exited`) ends first.
 */
export async function waitUntilReady(o: {
  address: string;
  namespace: string;
  deadline: number;
  exited?: Promise<void>;
  hasExited?: () => boolean;
}): Promise<Connection> {
  let lastError: unknown = new Error('no attempt made');
  const exitedFirst = o.exited?.then(() => {
    throw new Error('server process exited');
  });
  exitedFirst?.catch(() => undefined); // only observed through Promise.race below
  while (Date.now() < o.deadline) {
    if (o.hasExited?.()) throw new Error('server process exited');
    const remaining = o.deadline - Date.now();
    // One attempt; it closes its own connection when it fails.
    const attempt = (async () => {
      const c = await Connection.connect({
        address: o.address,
        connectTimeout: Math.max(500, Math.min(3_000, remaining)),
      });
      try {
        const callDeadline = Date.now() + Math.max(1_000, Math.min(5_000, o.deadline - Date.now()));
        await c.withDeadline(callDeadline, () => c.workflowService.getSystemInfo({}));
        await c.withDeadline(callDeadline, () => c.workflowService.describeNamespace({ namespace: o.namespace }));
        return c;
      } catch (err) {
        await c.close().catch(() => undefined);
        throw err;
      }
    })();
    try {
      return await (exitedFirst ? Promise.race([attempt, exitedFirst]) : attempt);
    } catch (err) {
      lastError = err;
      if (o.hasExited?.()) {
        // The process died while the attempt was in flight: close whatever it still opens.
        attempt
          .then(
            (c) => c.close(),
            () => undefined,
          )
          .catch(() => undefined);
        throw err;
      }
    }
    await sleep(250);
  }
  throw lastError;
}

/**
 * Registers the `wanted` search attributes missing in `namespace` and waits until they are
 * visible; fails when one is registered with another type.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  wanted: Record<string, DevServerSearchAttributeType>,
  deadline: number,
  log: (line: string) => void,
): Promise<void> {
  const names = Object.keys(wanted);
  if (names.length === 0) return;
  const list = async (): Promise<Record<string, temporal.api.enums.v1.IndexedValueType>> => {
    const res = await connection.withDeadline(Math.max(deadline, Date.now() + 5_000), () =>
      connection.operatorService.listSearchAttributes({ namespace }),
    );
    return { ...res.systemAttributes, ...res.customAttributes };
  };

  let existing = await list();
  const mismatched = names.filter((n) => existing[n] !== undefined && existing[n] !== INDEXED_VALUE_TYPE[wanted[n]!]);
  if (mismatched.length > 0) {
    throw new Error(
      `search attributes already registered with another type in namespace ${namespace}: ` +
        mismatched
          .map((n) => `${n} is ${temporal.api.enums.v1.IndexedValueType[existing[n]!]}, want ${wanted[n]}`)
          .join(', '),
    );
  }
  const missing = names.filter((n) => existing[n] === undefined);
  if (missing.length === 0) return;

  log(`registering search attributes in namespace ${namespace}: ${missing.map((n) => `${n}=${wanted[n]}`).join(', ')}`);
  try {
    await connection.withDeadline(Math.max(deadline, Date.now() + 10_000), () =>
      connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map((n) => [n, INDEXED_VALUE_TYPE[wanted[n]!]])),
      }),
    );
  } catch (err) {
    // ALREADY_EXISTS (gRPC code 6): someone registered them concurrently.
    if ((err as { code?: unknown }).code !== 6 && !/already exists/i.test(errorMessage(err))) throw err;
  }
  // Registration goes through the server's metadata cache: wait until it is visible.
  for (;;) {
    existing = await list();
    const stillMissing = names.filter((n) => existing[n] === undefined);
    if (stillMissing.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(
        `search attributes not visible in namespace ${namespace} after registering them: ${stillMissing.join(', ')}`,
      );
    await sleep(250);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The message of a thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
