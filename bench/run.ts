// `npm run bench`: symtensor side by side with its peers, measured in the same run on this machine.
// Writes bench/results/latest.json and prints a table of medians, ratios and targets
// ("speedup" = that implementation's time / symtensor's time; above 1 means symtensor is faster).
// The suite itself is lib/bench/ (also run by `symtensor bench` from an installed package).
//
// Options:
//   --only=sgemm,mlp           cases whose id or workload contains one of these (plus the cases
//                              their metrics need)
//   --peers=symtensor,torch    implementations or families: symtensor (with -eager, -async),
//                              numpy, torch (with torch-default), tfjs (tfjs-wasm, tfjs-cpu), or
//                              single names such as torch-default
//   --quick                    fewer sizes, repetitions and RSS steps (a smoke run)
//   --out=FILE                 JSON destination (default bench/results/latest.json)
//   --keep-openblas-env        keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE.  By default, when either is
//                              set, the bench re-runs itself once without them, so that OpenBLAS picks
//                              its kernel for this CPU; every peer runs with the same environment.
// Environment: SYMTENSOR_BENCH_PYTHON=/path/to/python (with numpy / torch) for the Python peers.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { IMPLS } from '../lib/bench/harness';
import { selectImpls } from '../lib/bench/options';
import { BenchOptions, reexecWithoutOverrides, runBench } from '../lib/bench/run';

function parseArgs(argv: string[]): BenchOptions {
  const o: BenchOptions = {
    only: [], impls: [...IMPLS], quick: false, keepEnv: false,
    out: path.join(__dirname, 'results', 'latest.json'),
    command: ['npm run bench --', ...argv].join(' '),
  };
  for (const a of argv) {
    const [k, v = ''] = a.split(/=(.*)/s, 2);
    if (k === '--only') o.only = v.split(',').filter(Boolean);
    else if (k === '--peers') o.impls = selectImpls(v.split(',').filter(Boolean), { withSymtensor: false });
    else if (k === '--quick') o.quick = true;
    else if (k === '--keep-openblas-env') o.keepEnv = true;
    else if (k === '--out') o.out = path.resolve(v);
    else if (k === '--help' || k === '-h') {
      console.log(readFileSync(__filename, 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  return o;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  reexecWithoutOverrides(argv, argv.includes('--keep-openblas-env') || argv.includes('--help') || argv.includes('-h'));
  await runBench(parseArgs(argv));
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).stack ?? (e as Error).message}`);
  process.exit(1);
});
