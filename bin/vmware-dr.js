#!/usr/bin/env node
'use strict';
// Runs the compiled CLI when the package is built, else the TypeScript source through tsx.
const path = require('node:path');
const fs = require('node:fs');
const compiled = path.join(__dirname, '..', 'dist', 'src', 'cli.js');
if (fs.existsSync(compiled)) {
  require(compiled).main(process.argv.slice(2));
} else {
  require('tsx/cjs');
  require(path.join(__dirname, '..', 'src', 'cli.ts')).main(process.argv.slice(2));
}
