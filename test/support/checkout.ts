/**
 * A fresh checkout of this tree in a temporary directory: its tracked and untracked (not ignored)
 * files as a clone would have them, no `dist/`, and `node_modules` linked to this tree's (what
 * `npm ci` would install). Tests run the package or its `vmware-dr` there without touching the tree.
 */
import { execFile } from 'node:child_process';
import { cpSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

/** The root of this tree. */
export const root = join(__dirname, '..', '..');

/** Copies the tree's files (not `dist/`, not ignored files) to `to` and links its `node_modules`. */
export async function copyCheckout(to: string): Promise<void> {
  const { stdout } = await promisify(execFile)(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '-z'],
    { cwd: root, maxBuffer: 64 << 20 },
  );
  for (const file of stdout.split('\0').filter(Boolean)) {
    const from = join(root, file);
    let stat;
    try {
      stat = lstatSync(from);
    } catch {
      continue; // deleted in the working tree
    }
    if (!stat.isFile()) continue; // e.g. the .temporal symlink
    mkdirSync(dirname(join(to, file)), { recursive: true });
    cpSync(from, join(to, file));
  }
  symlinkSync(join(root, 'node_modules'), join(to, 'node_modules'), 'dir');
}
