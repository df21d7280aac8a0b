#!/usr/bin/env node
'use strict';
// Runs the compiled CLI (dist/, what the published package ships). In a source checkout that
// has not been built, runs the TypeScript source through tsx (a devDependency).
const path = require('node:path');
const fs = require('node:fs');
const compiled = path.join(__dirname, '..', 'dist', 'src', 'cli', 'index.js');
if (fs.existsSync(compiled)) {
  require(compiled).run(process.argv.slice(2));
} else {
  try {
    require.resolve('tsx/cjs');
  } catch {
    console.error(
      'vmware-dr: dist/ is missing and tsx is not installed; run `npm run build` (or `npm ci` for the dev tools) first',
    );
    process.exit(1);
  }
  require('tsx/cjs');
  require(path.join(__dirname, '..', 'src', 'cli', 'index.ts')).run(process.argv.slice(2));
}
