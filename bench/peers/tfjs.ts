// TensorFlow.js peers: the pure-JS 'cpu' backend and the single-threaded 'wasm' backend (in Node the
// wasm backend runs one thread).  Both share one tfjs instance; run.ts switches backends per case.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Tf = any;

let tfPromise: Promise<{ tf: Tf; version: string; backends: string[]; notes: string[] }> | null = null;

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
    try {
      tf = await import('@tensorflow/tfjs');
      tf = tf.default ?? tf;
      try {
        await import('@tensorflow/tfjs-backend-wasm');
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
