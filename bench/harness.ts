// The harness moved to lib/bench/harness.ts (it ships in the package for `symtensor bench`); this
// re-export keeps bench scripts that import it from here working.
export * from '../lib/bench/harness';
