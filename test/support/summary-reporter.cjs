// mocha's reporter for this project: one line per test file (its counts and time), every failure in
// full at the end, then one plain line "N passed, N failed" that CI reads.
// Full spec output on demand: `npm run test:spec`, `--reporter-option spec=1`, or SYMTENSOR_TEST_SPEC=1.
'use strict';
const path = require('node:path');
const Mocha = require('mocha');

const { Base, Spec } = Mocha.reporters;

function wantsSpec(options) {
  const opt = options && (options.reporterOption || options.reporterOptions);
  const on = (v) => v !== undefined && v !== '' && v !== '0' && v !== 'false' && v !== false;
  return on(opt && opt.spec) || on(process.env.SYMTENSOR_TEST_SPEC);
}

/** "1.3 s" or "240 ms". */
function duration(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/**
 * Prints a line for each test file when the run moves on from it.  Mocha runs files one after
 * another, so a file's tests and hooks arrive together.
 */
function reportPerFile(runner) {
  let current = null;
  const flush = () => {
    if (!current) return;
    const { file, passed, failed, skipped, start } = current;
    const mark = failed ? Base.color('fail', 'FAIL') : Base.color('checkmark', ' ok ');
    const counts = [`${passed} passed`, failed ? `${failed} failed` : '', skipped ? `${skipped} skipped` : ''].filter(Boolean);
    process.stdout.write(`  ${mark} ${file}  ${Base.color('light', `${counts.join(', ')}, ${duration(Date.now() - start)}`)}\n`);
    current = null;
  };
  const entry = (runnable) => {
    const file = runnable.file ? path.relative(process.cwd(), runnable.file) : '(no file)';
    if (!current || current.file !== file) {
      flush();
      current = { file, passed: 0, failed: 0, skipped: 0, start: Date.now() };
    }
    return current;
  };
  runner.on('test', (t) => entry(t));
  runner.on('pass', (t) => entry(t).passed++);
  runner.on('fail', (t) => entry(t).failed++);
  runner.on('pending', (t) => entry(t).skipped++);
  runner.once('end', flush);
}

class SummaryReporter extends Base {
  constructor(runner, options) {
    super(runner, options);
    if (wantsSpec(options)) {
      // Spec prints every test and its own epilogue (the failures in full).
      new Spec(runner, options); // eslint-disable-line no-new
    } else {
      reportPerFile(runner);
      runner.once('end', () => this.epilogue());
    }
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    runner.on('pass', () => passed++);
    runner.on('fail', () => failed++);
    runner.on('pending', () => skipped++);
    runner.once('end', () => {
      // the last line is exactly "N passed, N failed"; skipped tests (each printed why) are counted above it
      if (skipped) process.stdout.write(`\n${skipped} skipped`);
      process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
    });
  }
}

module.exports = SummaryReporter;
