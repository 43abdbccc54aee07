// The public T object: every op wrapped once to report the user's line (aliases stay the same
// function), frozen, and answering a misspelled or missing name with the closest valid ones
// instead of undefined.
import { SymtensorError } from '../errors';
import { traced } from './traced';

type Fn = (...args: never[]) => unknown;

// Names tools probe on any object (promise resolution, JSON, test matchers, module interop):
// unknown ones read as undefined, as on a plain object.
const PROBED = new Set(['then', 'toJSON', 'asymmetricMatch', '$$typeof', 'nodeType', '__esModule', 'default', 'inspect', 'prototype', 'constructor']);

/** Lower case without underscores: Theano's snake_case and other casings compare equal. */
function normalize(name: string): string {
  return name.toLowerCase().replace(/_/g, '');
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length];
}

/** Up to three names of `names` closest to `name` (none when nothing is close). */
export function closestNames(name: string, names: string[]): string[] {
  const n = normalize(name);
  const limit = Math.max(2, Math.floor(n.length / 3));
  return names
    .map((k) => ({ k, d: normalize(k) === n ? 0 : normalize(k).startsWith(n) || n.startsWith(normalize(k)) ? 1 : editDistance(n, normalize(k)) }))
    .filter((c) => c.d <= limit)
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k))
    .slice(0, 3)
    .map((c) => c.k);
}

/** obj behind a Proxy whose unknown string keys throw a SymtensorError naming the closest ones. */
function strict<O extends object>(obj: O, label: string): O {
  return new Proxy(obj, {
    get(target, key, receiver) {
      if (typeof key === 'symbol' || key in target || PROBED.has(key)) return Reflect.get(target, key, receiver);
      const near = closestNames(key, Object.keys(target));
      const hint = near.length ? `; did you mean ${near.map((k) => `${label}.${k}`).join(', ')}?` : `; see Object.keys(${label})`;
      throw new SymtensorError('ERR_ST_ARG', `${label}.${key}`, `${label} has no ${JSON.stringify(key)}${hint}`);
    },
  });
}

/**
 * The public form of a namespace of op functions: each function traced once (two names for one
 * function stay one function), nested plain objects (T.nnet) treated alike, the result frozen
 * and strict about unknown names.
 */
export function publicNamespace<NS extends object>(raw: NS, label = 'T'): NS {
  const wrapped = new Map<Fn, Fn>();
  const wrap = (v: unknown): unknown => {
    if (typeof v !== 'function') return v;
    let w = wrapped.get(v as Fn);
    if (!w) wrapped.set(v as Fn, (w = traced(v as Fn)));
    return w;
  };
  const build = (obj: object, name: string): object => {
    const out = Object.fromEntries(
      Object.entries(obj).map(([k, v]) => [k, v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype ? build(v, `${name}.${k}`) : wrap(v)]),
    );
    return strict(Object.freeze(out), name);
  };
  return build(raw, label) as NS;
}
