/**
 * Ctrl-C for commands that start runs (`rehearse`, `demo`, `run --wait`). While a run goes, its
 * starter registers how to end it ({@link onInterrupt}); the first SIGINT ends every registered
 * run (cancels it, or terminates what a cancel does not end in time) and the process then exits
 * 130; a second SIGINT exits 130 at once. The CLI turns this on ({@link handleInterrupts}); a
 * host process that does not keeps its own signal handling (runs register, nothing listens).
 */

/** Exit code after Ctrl-C (128 + SIGINT), as shells report a process ended by it. */
export const EXIT_INTERRUPTED = 130;

/** Longest the first Ctrl-C waits for the registered runs to end and the command to finish. */
export const DEFAULT_INTERRUPT_GRACE_MS = 30_000;

/** A command stopped by Ctrl-C: what it started has been ended (or was asked to end). */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
}

/** How the process reacts to Ctrl-C once {@link handleInterrupts} turned it on. */
export interface InterruptHandling {
  /** Ends the process. */
  exit: (code: number) => void;
  /** Tells the person at the terminal what happens (a line, without newline). */
  say: (line: string) => void;
  /**
   * Longest wait after the first Ctrl-C before the process exits anyway.
   * @default DEFAULT_INTERRUPT_GRACE_MS
   */
  graceMs?: number;
}

let handling: Required<InterruptHandling> | undefined;
const controller = new AbortController();
const ends = new Map<symbol, { what: string; end: () => Promise<void> }>();
let listening = false;

/** Aborted at the first Ctrl-C: a command checks it before it starts anything more. */
export const interruptSignal: AbortSignal = controller.signal;

/** Whether Ctrl-C has been pressed (and handled). */
export function interrupted(): boolean {
  return controller.signal.aborted;
}

/** Turns Ctrl-C handling on for this process (the CLI's entry does, once). */
export function handleInterrupts(h: InterruptHandling): void {
  handling = { graceMs: DEFAULT_INTERRUPT_GRACE_MS, ...h };
  if (ends.size > 0) listen();
}

function listen(): void {
  if (listening || !handling) return;
  listening = true;
  process.on('SIGINT', onSigint);
}

function onSigint(): void {
  const h = handling!;
  if (controller.signal.aborted) return void h.exit(EXIT_INTERRUPTED);
  controller.abort(new InterruptedError('interrupted (Ctrl-C)'));
  const running = [...ends.values()];
  if (running.length === 0) {
    // Nothing of ours to end: exit as Node would, unless another handler waits for Ctrl-C (the
    // process then exits 130 when that handler is done, see `interrupted`).
    if (process.listenerCount('SIGINT') <= 1) h.exit(EXIT_INTERRUPTED);
    return;
  }
  h.say(`interrupted: ending ${running.map((r) => r.what).join(', ')} (Ctrl-C again to quit without waiting)`);
  // Exits in any case after the grace; the command itself usually finishes first (and exits 130).
  setTimeout(() => h.exit(EXIT_INTERRUPTED), h.graceMs);
  void Promise.allSettled(
    running.map((r) =>
      r.end().catch((err: unknown) => h.say(`could not end ${r.what}: ${(err as Error)?.message ?? String(err)}`)),
    ),
  );
}

/**
 * Registers a run that Ctrl-C must end while it goes: `end` cancels it (or terminates it) and
 * resolves once it has ended or was told to. Returns the function that unregisters it (call it
 * when the run has ended).
 */
export function onInterrupt(what: string, end: () => Promise<void>): () => void {
  const id = Symbol(what);
  ends.set(id, { what, end });
  listen();
  return () => void ends.delete(id);
}
