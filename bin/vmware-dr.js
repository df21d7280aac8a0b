#!/usr/bin/env node
'use strict';
// Runs the `vmware-dr` CLI. In a source checkout (src/ beside bin/, tsx installed by `npm ci`) it
// runs the TypeScript source through tsx, so the command is always the code of the checkout (a
// dist/ left by an earlier build may be stale); the published package has no src/ and runs the
// compiled dist/.
const path = require('node:path');
const fs = require('node:fs');
const source = path.join(__dirname, '..', 'src', 'cli', 'index.ts');
const compiled = path.join(__dirname, '..', 'dist', 'src', 'cli', 'index.js');

/** Whether tsx can be loaded from here (a devDependency: absent from an installed package). */
function hasTsx() {
  try {
    require.resolve('tsx/cjs');
    return true;
  } catch {
    return false;
  }
}

if (fs.existsSync(source) && hasTsx()) {
  require('tsx/cjs');
  require(source).run(process.argv.slice(2));
} else if (fs.existsSync(compiled)) {
  require(compiled).run(process.argv.slice(2));
} else {
  console.error(
    'vmware-dr: dist/ is missing and tsx is not installed; run `npm ci` (for the dev tools) or `npm run build` first',
  );
  process.exit(1);
}
