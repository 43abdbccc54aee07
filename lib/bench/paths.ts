// Where the benchmark finds its files.  lib/bench/ (run by tsx from the sources) and dist/bench/
// (the compiled package) are both two folders below the package root, which holds bench/peers/
// (the Python peers, shipped in the package) and, in a checkout, bench/node_modules (the tfjs
// peers installed by `npm run bench:install`).
import path from 'node:path';

/** The symtensor package's root folder (the one with package.json). */
export const packageRoot = path.resolve(__dirname, '..', '..');

/** The Python peer scripts (numpy_bench.py, torch_bench.py and their pycommon.py). */
export const pythonPeersDir = path.join(packageRoot, 'bench', 'peers');

/**
 * A bench child script next to the running code: `name`.ts started through tsx when the bench
 * runs from the sources, `name`.js when it runs from the compiled package.
 */
export function childScript(dir: string, name: string): { file: string; nodeArgs: string[] } {
  const ext = path.extname(__filename) === '.ts' ? '.ts' : '.js';
  return { file: path.join(dir, name + ext), nodeArgs: ext === '.ts' ? ['--import', 'tsx'] : [] };
}
