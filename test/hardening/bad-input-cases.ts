// The generated bad-input calls, run inside a child process (test/hardening/bad-input.test.ts): every
// exported `st` and `T` function, called with each bad value at each of its first argument positions
// (the others well-formed).  Each call writes one JSON line to a file before it starts and one as it
// finishes, so a crash still shows which call it was.
import { openSync, writeSync } from 'node:fs';
import * as st from '../../lib/index';

/** How a call ended. */
export interface Outcome {
  fn: string;
  args: string;
  /** 'ok': returned; 'named': a SymtensorError naming the function; 'bad': anything else. */
  kind: 'ok' | 'named' | 'bad';
  detail?: string;
}

/** The bad values, each with a label. */
export function badValues(): [string, unknown][] {
  return [
    ['string', 'abc'],
    ['empty object', {}],
    ['object', { a: 1, shape: 'x' }],
    ['bigint', 10n],
    ['symbol', Symbol('s')],
    ['null', null],
    ['undefined', undefined],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['2^53', 2 ** 53],
    ['1e300', 1e300],
    ['2^31', 2 ** 31],
    ['-1', -1],
    ['1.5', 1.5],
    ['-0.5', -0.5],
    ['function', () => 1],
    ['ragged', [[1], [1, 2]]],
    ['strings in array', ['a', 'b']],
    ['objects in array', [{}, {}]],
    ['nulls in array', [null]],
    ['bigints in array', [1n, 2n]],
    ['symbols in array', [Symbol('a')]],
    ['deep empty', [[[[]]]]],
    ['huge dims', [2 ** 40, 2 ** 40]],
    ['negative dims', [-2, 3]],
    ['fractional dims', [1.5, 2]],
    ['17 ones', new Array(17).fill(1)],
    ['NaN dims', [NaN]],
    ['bigint dims', [2n, 3n]],
  ];
}

const CLASSES = new Set(['Tensor', 'SymtensorError', 'Variable', 'Constant', 'Apply', 'Op', 'SharedVariable', 'RandomStreams', 'Model', 'Sequential', 'KerasTensor', 'SliceSpec']);

/** The functions under test: [name as the user writes it, name an error must mention, function]. */
export function functions(): [string, string, (...a: unknown[]) => unknown][] {
  const out: [string, string, (...a: unknown[]) => unknown][] = [];
  for (const [k, v] of Object.entries(st)) if (typeof v === 'function' && !CLASSES.has(k)) out.push([`st.${k}`, k, v as never]);
  for (const [k, v] of Object.entries(st.T)) if (typeof v === 'function') out.push([`T.${k}`, k, v as never]);
  return out;
}

/** Well-formed arguments for the positions a bad value does not take. */
function goodArgs(ns: 'st' | 'T'): unknown[] {
  if (ns === 'st') return [st.ones([2, 2]), st.ones([2, 2]), st.ones([2, 2])];
  return [st.T.matrix('a'), st.T.matrix('b'), st.T.matrix('c')];
}

/** An error names the function when its .op is the function (or ends with it) or its message says it. */
function names(e: unknown, name: string): boolean {
  if (!(e instanceof st.SymtensorError)) return false;
  const op = e.op.replace(/^(T|fn|st)\./, '');
  return op === name || e.message.includes(name);
}

function describe(e: unknown): string {
  if (e instanceof st.SymtensorError) return `SymtensorError ${e.code} op=${e.op}: ${e.message.slice(0, 160)}`;
  if (e instanceof Error) return `${e.constructor.name}: ${e.message.slice(0, 160)}`;
  return `thrown ${typeof e}`;
}

/** Runs the calls of the functions of namespace `ns` and prints one JSON line per call. */
export function run(ns: 'st' | 'T', outFile: string): void {
  // a file, written synchronously: a pipe's writes may still be queued when the child exits
  const fd = openSync(outFile, 'w');
  const emit = (o: object): void => void writeSync(fd, JSON.stringify(o) + '\n');
  const fns = functions().filter(([full]) => full.startsWith(`${ns}.`));
  const bad = badValues();
  for (const [full, name, f] of fns) {
    for (let pos = 0; pos < 3; pos++) {
      for (const [label, value] of bad) {
        const args = goodArgs(ns);
        args[pos] = value;
        const line: Outcome = { fn: full, args: `#${pos}=${label}`, kind: 'ok' };
        emit({ start: `${full} ${line.args}` });
        try {
          const r = f(...args.slice(0, Math.max(pos + 1, Math.min(f.length, 3))));
          if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).catch(() => undefined);
        } catch (e) {
          line.kind = names(e, name) ? 'named' : 'bad';
          if (line.kind === 'bad') line.detail = describe(e);
        }
        emit(line);
      }
    }
  }
}
