// `symtensor`: the command line (commander for the arguments).  The library is loaded only once
// the arguments are read, so that --threads can set the kernel pool's size before the addon starts.
//
// Exit codes: 0 done, 1 failed (message on stderr; the stack with --verbose), 2 bad usage,
// 130/143 stopped by SIGINT/SIGTERM after writing a checkpoint.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CliError, EXIT } from './errors';
import { CHECKPOINT_UNITS, DATASETS, BUILTIN_MODELS, loadJob } from './job';
import { PEER_NAMES, selectImpls } from '../bench/options';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function commaList(v: string): string[] {
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (!names.length) throw new InvalidArgumentError('expected a comma-separated list');
  return names;
}

function peerList(v: string) {
  try {
    return selectImpls(commaList(v), { withSymtensor: true });
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message.replace(/^bench: /, ''));
  }
}

/** Sets the thread count for the kernel pool and OpenBLAS, before the addon loads. */
function useThreads(n: number | undefined): void {
  if (n === undefined) return;
  process.env.SYMTENSOR_NUM_THREADS = String(n);
  process.env.OPENBLAS_NUM_THREADS = String(n);
}

const TRAIN_HELP = `
Job file (JSON, or a .js/.ts module exporting the job object or a function returning it).
Every key is optional; unknown keys and wrong types are errors naming the key path.
Relative paths in the file are relative to the file's folder.

  {
    "model": "cnn",                  // "mlp" | "cnn" | { "builtin": "cnn", "filters": [16, 32],
                                     //   "units": [64], "dropout": 0.25 }
                                     // | { "module": "./model.js", "export": "createModel" }:
                                     //   a function ({ st, inputShape, numClasses, job }) returning
                                     //   a model (compiled, or compiled here with the fit options)
    "data": "shapes",                // "shapes" (generated, 8 classes) | "fashion-mnist" | "mnist"
                                     // | { "name": "shapes", "trainSize": 6000, "testSize": 1000,
                                     //     "seed": 1, "noise": 0.15 }
                                     // | { "name": "fashion-mnist", "dir": "..." }
                                     // | { "name": "mnist", "dir": "...", "download": true, "url": "..." }
                                     // | { "name": "files", "train": { "x": "x.npy", "y": "y.npy" },
                                     //     "test": { "csv": "test.csv", "labelColumn": "label" } }
    "fit": { "epochs": 5, "batchSize": 64, "learningRate": 0.003, "optimizer": "adam",
             "validationSplit": 0.1, "shuffle": true },
    "out": "runs/my-job",            // default: runs/<job name> in the working directory
    "seed": 1,                       // weights, shuffling and dropout follow from it
    "threads": 2,                    // kernel and OpenBLAS threads
    "checkpoint": { "every": 100, "unit": "steps", "keep": 3 },
    "metricsEvery": 50               // steps between the "step" lines of metrics.jsonl
  }

Written to the output folder: model/ (the trained model, written once training is done),
metrics.jsonl, report.html, job.json and checkpoints/ (each checkpoint a folder with a sha256
manifest). SIGINT/SIGTERM finish the current step, write a checkpoint and exit with 130/143;
--resume continues from the newest checkpoint whose checksums match (others are skipped with a
warning). With a fixed --threads and seed, a resumed run ends with the same weights, bit for bit,
as one that was never stopped.

Exit codes: 0 done, 1 failed, 2 bad usage, 130 SIGINT, 143 SIGTERM.

Under mpirun (Open MPI) one model trains data-parallel: batchSize is the global batch, split evenly
among the ranks; rank 0 alone writes the output folder; --threads applies per rank; --resume makes
every rank read rank 0's newest checkpoint. For a clean stop send SIGUSR1 to mpirun (it forwards it;
mpirun answers SIGINT/SIGTERM by killing the ranks).

Examples:
  symtensor train                              # the built-in job: a cnn on generated shapes
  symtensor train --data fashion-mnist         # the same on Debian's Fashion-MNIST
  symtensor train job.json --epochs 3 --out runs/a --checkpoint-every 200 --checkpoint-unit steps
  symtensor train job.json --resume
  mpirun -np 4 symtensor train job.json --out runs/a   # data-parallel on 4 processes
`;

const BENCH_HELP = `
Runs symtensor's benchmark suite (the one \`npm run bench\` runs in a checkout) with the peers found
on this machine: numpy and PyTorch through a python3 that imports them (SYMTENSOR_BENCH_PYTHON
picks one), TensorFlow.js when @tensorflow/tfjs (and @tensorflow/tfjs-backend-wasm) resolve from
this folder.  Peers that are absent are skipped with a note.  Prints the table of medians and
ratios ("speedup" = the peer's time / symtensor's; above 1: symtensor is faster) and the targets,
and writes every number to the JSON file.

Workloads: sgemm, elementwise, conv2d, call-overhead, mlp-sgd, mlp-adam, mlp-infer, mlp-rss,
compile-time, fit-epoch (Debian's dataset-fashion-mnist), rnn-scan, lstm, attention, natural-drop.

Examples:
  symtensor bench --quick                            # every workload, fewer repetitions
  symtensor bench --only sgemm,mlp-sgd --peers numpy,pytorch --out bench.json
  symtensor bench --only call-overhead --quick --peers none
`;

/** The program, its commands and options. */
export function buildProgram(state: { verbose: boolean; code: number; argv?: string[] }): Command {
  const program = new Command('symtensor')
    .description('Train, evaluate and inspect symtensor models from the command line.')
    .version(require('../../package.json').version as string, '-V, --version')
    .option('--verbose', 'print stack traces of errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.hook('preAction', (cmd) => {
    state.verbose = Boolean(cmd.opts().verbose);
  });

  program
    .command('train')
    .description('train a model described by a job file (the built-in shapes job when none is given)')
    .argument('[job]', 'job file: .json, .js or .ts')
    .option('--epochs <n>', 'epochs to train', positiveInt)
    .option('--batch-size <n>', 'samples per batch', positiveInt)
    .option('--lr <rate>', 'learning rate', positiveNumber)
    .option('--out <dir>', 'output folder')
    .option('--seed <n>', 'seed of weights, shuffling and dropout', nonNegativeInt)
    .option('--threads <n>', 'kernel and OpenBLAS threads', positiveInt)
    .addOption(new Option('--data <name>', 'dataset').choices(DATASETS.filter((d) => d !== 'files')))
    .addOption(new Option('--model <name>', 'built-in model').choices([...BUILTIN_MODELS]))
    .option('--checkpoint-every <n>', 'write a checkpoint every n steps or epochs', positiveInt)
    .addOption(new Option('--checkpoint-unit <unit>', 'unit of --checkpoint-every').choices([...CHECKPOINT_UNITS]))
    .option('--keep <k>', 'checkpoints kept (the newest k)', positiveInt)
    .option('--resume', 'continue from the newest valid checkpoint in the output folder')
    .option('--quiet', 'no progress output')
    .addOption(new Option('--step-delay <ms>', 'wait after each step (to watch or interrupt a run)').argParser(nonNegativeInt).hideHelp())
    .addHelpText('after', TRAIN_HELP)
    .action(async (file: string | undefined, o: Record<string, unknown>, cmd: Command) => {
      const job = await loadJob(file, {
        epochs: o.epochs as number | undefined,
        batchSize: o.batchSize as number | undefined,
        lr: o.lr as number | undefined,
        out: o.out as string | undefined,
        seed: o.seed as number | undefined,
        threads: o.threads as number | undefined,
        data: o.data as string | undefined,
        model: o.model as string | undefined,
        checkpointEvery: o.checkpointEvery as number | undefined,
        checkpointUnit: o.checkpointUnit as 'steps' | 'epochs' | undefined,
        keep: o.keep as number | undefined,
      });
      useThreads(job.threads);
      void cmd;
      const { runTrain } = await import('./train');
      const r = await runTrain(job, { resume: Boolean(o.resume), lrGiven: o.lr !== undefined, verbose: o.quiet ? 0 : 1, stepDelay: o.stepDelay as number | undefined });
      state.code = r.exitCode;
    });

  program
    .command('evaluate')
    .description("loss and metrics of a saved model on a dataset's test split")
    .argument('<modelDir>', 'a saved model (or a train output folder)')
    .addOption(new Option('--data <name>', 'dataset').choices(DATASETS.filter((d) => d !== 'files')).makeOptionMandatory())
    .option('--data-dir <dir>', 'folder of the dataset files (mnist, fashion-mnist)')
    .option('--batch-size <n>', 'samples per batch', positiveInt, 256)
    .option('--threads <n>', 'kernel and OpenBLAS threads', positiveInt)
    .option('--json', 'print one JSON object')
    .action(async (dir: string, o: Record<string, unknown>) => {
      useThreads(o.threads as number | undefined);
      const { evaluateCommand } = await import('./commands');
      await evaluateCommand(dir, { data: o.data as string, dataDir: o.dataDir as string | undefined, batchSize: o.batchSize as number, json: Boolean(o.json) });
    });

  program
    .command('predict')
    .description('outputs of a saved model: one line per sample (class and probability), or a file')
    .argument('<modelDir>', 'a saved model (or a train output folder)')
    .requiredOption('--input <file>', 'samples as .npy or .csv (rows of features; reshaped to the model input)')
    .option('--output <file>', 'write the outputs to a .npy or .csv file instead')
    .option('--csv-header', 'the input CSV has a header line')
    .option('--batch-size <n>', 'samples per batch', positiveInt, 256)
    .option('--threads <n>', 'kernel and OpenBLAS threads', positiveInt)
    .action(async (dir: string, o: Record<string, unknown>) => {
      useThreads(o.threads as number | undefined);
      const { predictCommand } = await import('./commands');
      await predictCommand(dir, { input: o.input as string, output: o.output as string | undefined, batchSize: o.batchSize as number, csvHeader: Boolean(o.csvHeader) });
    });

  program
    .command('summary')
    .description("a saved model's layers, shapes, parameters and training configuration")
    .argument('<modelDir>', 'a saved model (or a train output folder)')
    .action(async (dir: string) => {
      const { summaryCommand } = await import('./commands');
      await summaryCommand(dir);
    });

  program
    .command('bench')
    .description('benchmarks: symtensor side by side with numpy, PyTorch and TensorFlow.js where present')
    .option('--only <names>', 'cases whose id contains, or whose workload is, one of these (comma-separated)', commaList)
    .option('--peers <list>', `peers to run beside symtensor (comma-separated): ${PEER_NAMES.filter((p) => p !== 'symtensor').join(', ')}`, peerList)
    .option('--out <file.json>', 'where to write the JSON report', 'symtensor-bench.json')
    .option('--quick', 'fewer sizes and repetitions (a smoke run)')
    .option('--keep-openblas-env', 'keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (by default the run restarts without them)')
    .addHelpText('after', BENCH_HELP)
    .action(async (o: Record<string, unknown>) => {
      const { benchCommand } = await import('./commands');
      const { IMPLS } = await import('../bench/harness');
      await benchCommand({
        only: (o.only as string[] | undefined) ?? [],
        impls: (o.peers as typeof IMPLS | undefined) ?? [...IMPLS],
        out: o.out as string,
        quick: Boolean(o.quick),
        keepOpenblasEnv: Boolean(o.keepOpenblasEnv),
        argv: state.argv ?? process.argv.slice(2),
      });
    });

  program
    .command('info')
    .description('backend, threads and versions')
    .option('--threads <n>', 'kernel and OpenBLAS threads', positiveInt)
    .option('--json', 'print JSON')
    .action(async (o: Record<string, unknown>) => {
      useThreads(o.threads as number | undefined);
      const { infoCommand } = await import('./commands');
      infoCommand(Boolean(o.json));
    });

  return program;
}

/**
 * Runs the command line on `argv` (without node and the script) and resolves to the exit code;
 * messages go to stdout/stderr.
 * @example process.exitCode = await main(['train', 'job.json', '--epochs', '2'])
 */
export async function main(argv: string[]): Promise<number> {
  const state = { verbose: argv.includes('--verbose'), code: EXIT.ok as number, argv };
  const program = buildProgram(state);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return state.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; commander has already printed its message
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    const err = e as Error;
    const msg = state.verbose && err.stack ? err.stack : err.message;
    process.stderr.write(`symtensor: ${msg}\n`);
    return e instanceof CliError ? e.exitCode : EXIT.failed;
  }
}

/** Runs main and exits the process with its code. */
export function run(argv: string[] = process.argv.slice(2)): void {
  main(argv).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`symtensor: ${(e as Error).message}\n`);
      process.exit(EXIT.failed);
    },
  );
}

if (require.main === module) run();
