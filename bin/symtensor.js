#!/usr/bin/env node
// The `symtensor` command: runs the compiled command line from dist/ (built by `npm run build:ts`).
'use strict';
const path = require('node:path');
let cli;
try {
  cli = require(path.join(__dirname, '..', 'dist', 'cli', 'main.js'));
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(path.join('dist', 'cli', 'main.js'))) {
    process.stderr.write('symtensor: the compiled command line (dist/cli/main.js) is missing; run `npm run build:ts` in the package folder\n');
    process.exit(1);
  }
  throw e;
}
cli.run(process.argv.slice(2));
