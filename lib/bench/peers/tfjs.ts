// TensorFlow.js peers: the pure-JS 'cpu' backend and the single-threaded 'wasm' backend (in Node the
// wasm backend runs one thread).  Both share one tfjs instance; run.ts switches backends per case.
// @tensorflow/tfjs is not a dependency of symtensor: it is taken from the user's project (the
// working directory) when it resolves there, else from the checkout's bench/node_modules
// (`npm run bench:install`).
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from '../paths';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Tf = any;

let tfPromise: Promise<{ tf: Tf; version: string; backends: string[]; notes: string[] }> | null = null;

/**
 * A require function for the first of the places tfjs may be installed that resolves
 * @tensorflow/tfjs; throws an error with code MODULE_NOT_FOUND naming the places otherwise.
 */
export function tfjsRequire(): NodeJS.Require {
  const places = [process.cwd(), path.join(packageRoot, 'bench')];
  for (const dir of places) {
    const req = createRequire(path.join(dir, 'package.json'));
    try {
      req.resolve('@tensorflow/tfjs');
      return req;
    } catch { /* try the next place */ }
  }
  const e = new Error(`@tensorflow/tfjs is not installed in ${places.join(' or ')}`) as NodeJS.ErrnoException;
  e.code = 'MODULE_NOT_FOUND';
  throw e;
}

/** Loads @tensorflow/tfjs (and the wasm backend when available) once, quietly. */
export function loadTfjs(): Promise<{ tf: Tf; version: string; backends: string[]; notes: string[] }> {
  tfPromise ??= (async () => {
    const notes: string[] = [];
    // tfjs prints a banner recommending tfjs-node (which cannot be installed here); hide it.
    const warn = console.warn;
    const log = console.log;
    console.warn = () => {};
    console.log = () => {};
    let tf: Tf;
    const req = tfjsRequire();
    try {
      tf = req('@tensorflow/tfjs');
      tf = tf.default ?? tf;
      try {
        // from the same place, so that it registers its backend with this tfjs instance
        req('@tensorflow/tfjs-backend-wasm');
      } catch (e) {
        notes.push(`tfjs-backend-wasm not loaded: ${(e as Error).message.split('\n')[0]}`);
      }
    } finally {
      console.warn = warn;
      console.log = log;
    }
    // Production mode: no debug checks, and no "install tfjs-node" banner on first use.
    tf.enableProdMode();
    const backends: string[] = [];
    for (const b of ['cpu', 'wasm']) {
      try {
        if (await quietly(() => tf.setBackend(b))) backends.push(b);
        else notes.push(`tfjs backend ${b} did not initialize`);
      } catch (e) {
        notes.push(`tfjs backend ${b}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    return { tf, version: tf.version?.tfjs ?? tf.version_core ?? 'unknown', backends, notes };
  })();
  return tfPromise;
}

async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  const log = console.log;
  console.warn = () => {};
  console.log = () => {};
  try {
    return await f();
  } finally {
    console.warn = warn;
    console.log = log;
  }
}

export async function useBackend(tf: Tf, name: 'cpu' | 'wasm'): Promise<void> {
  if (tf.getBackend() !== name && !(await quietly(() => tf.setBackend(name)))) {
    throw new Error(`tfjs backend ${name} is not available`);
  }
  await tf.ready();
}
