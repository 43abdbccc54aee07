// The public T object: every op wrapped once to report the user's line and to name itself in its
// errors (aliases stay the same function), frozen, and answering a misspelled or missing name
// with the closest valid ones instead of undefined.
import { SymtensorError, fmtValue, relabel } from '../errors';
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
      throw new SymtensorError('ERR_ST_ARG', `${label}.${key}`, `${label} has no ${fmtValue(key)}${hint}`);
    },
  });
}

// Errors already reported as a public function's: a function that calls back into user code
// (T.scan's step) passes on what the user's own calls threw, unchanged.
const reported = new WeakSet<object>();

// Functions whose errors name the Op they were given (applyOp: the user's own Op's infer errors).
const opNamed = new WeakSet<object>();

/**
 * Marks functions that build a node of an Op the caller passes in: their errors keep that Op's name
 * instead of being reported as the function's.
 */
export function errorsNameTheirOp(...fns: Fn[]): void {
  for (const f of fns) opNamed.add(f);
}

/** The name an error's op is compared by: without the namespace ('T.', 'T.nnet.'). */
function bareName(op: string): string {
  return op.slice(op.lastIndexOf('.') + 1);
}

/**
 * f as the user calls it: traced (errors name the user's line), and a SymtensorError thrown by one
 * of its inner steps (`tensor`, `variance`, …) reported as `canonical`'s, the inner message kept
 * as its detail.  An error whose op is one of `names` (f's own names) stays as it is.
 * @example publicFunction(std, 'std', new Set(['std'])) // T.std(x, 'a') throws "std: variance: axis must …"
 */
export function publicFunction<F extends Fn>(f: F, canonical: string, names: ReadonlySet<string>): F {
  const t = traced(f);
  return function (this: unknown, ...args: never[]) {
    try {
      return t.apply(this, args);
    } catch (e) {
      if (!(e instanceof SymtensorError) || reported.has(e)) throw e;
      const out = opNamed.has(f) || names.has(bareName(e.op)) ? e : relabel(e, canonical);
      reported.add(out);
      throw out;
    }
  } as F;
}

/**
 * The public form of a namespace of op functions: each function wrapped once by publicFunction
 * (two names for one function stay one function, whose errors name it by its own name when that
 * is one of its keys, else by its first key), nested plain objects (T.nnet) treated alike, the
 * result frozen and strict about unknown names.
 */
export function publicNamespace<NS extends object>(raw: NS, label = 'T'): NS {
  const isSpace = (v: unknown): v is object => !!v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;
  // every name each function has, anywhere in the tree
  const names = new Map<Fn, Set<string>>();
  const collect = (obj: object) => {
    for (const [k, v] of Object.entries(obj)) {
      if (isSpace(v)) collect(v);
      else if (typeof v === 'function') names.set(v as Fn, (names.get(v as Fn) ?? new Set<string>()).add(k));
    }
  };
  collect(raw);
  const wrapped = new Map<Fn, Fn>();
  const wrap = (v: unknown): unknown => {
    if (typeof v !== 'function') return v;
    let w = wrapped.get(v as Fn);
    if (!w) {
      const own = names.get(v as Fn)!;
      const canonical = own.has(v.name) ? v.name : [...own][0];
      wrapped.set(v as Fn, (w = publicFunction(v as Fn, canonical, own)));
    }
    return w;
  };
  const build = (obj: object, name: string): object => {
    const out = Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, isSpace(v) ? build(v, `${name}.${k}`) : wrap(v)]));
    return strict(Object.freeze(out), name);
  };
  return build(raw, label) as NS;
}
