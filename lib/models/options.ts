// Argument checks shared by the model layer's parts (losses, metrics, optimizers, schedules,
// initializers, regularizers, constraints, activations, layers): options objects, option values,
// names looked up without regard to case or underscores, and Keras's {className, config} forms.
// Each family words its messages as it always has; the wording is a parameter, the logic is here.
import { isFloat } from '../dtype';
import { argError, dtypeError, fmtValue } from '../errors';
import { Variable } from '../graph/variable';

/** An options object after its check: plain keys and unknown values. */
export type Options = Record<string, unknown>;

/** How a family of constructors reads and words an options object. */
export interface OptionsRules {
  /** null is read as no options (true) or refused like any non-object (false).  Default true. */
  nullIsEmpty?: boolean;
  /** undefined is read as no options (true) or refused (false).  Default true. */
  optional?: boolean;
  /** The start of the message for a non-object.  Default 'options must be an object'. */
  notObject?: string;
  /** The message for an option name the constructor does not know. */
  unknown?: (key: string, valid: readonly string[]) => string;
}

/** `unknown option "k"; valid options: a, b` (or '(none)' where the constructor takes none). */
export const listValid = (key: string, valid: readonly string[]) => `unknown option ${JSON.stringify(key)}; valid options: ${valid.join(', ') || '(none)'}`;

/**
 * The optimizers' and schedules' rules: null is refused ("expected an options object"), and an
 * unknown option is quoted as fmtValue quotes it.
 */
export const STRICT_OPTIONS: OptionsRules = {
  nullIsEmpty: false,
  notObject: 'expected an options object',
  unknown: (k, valid) => `unknown option ${fmtValue(k)}; valid options: ${valid.join(', ')}`,
};

/**
 * An options object checked against the names it may hold: a misspelt option would otherwise be
 * ignored silently, so it throws ERR_ST_ARG naming it and listing the valid ones.
 * @example const o = checkOptions('MaxNorm', opts, ['maxValue', 'axis']);
 */
export function checkOptions(op: string, opts: unknown, valid: readonly string[], rules: OptionsRules = {}): Options {
  const { nullIsEmpty = true, optional = true, notObject = 'options must be an object', unknown = listValid } = rules;
  if ((opts === undefined && optional) || (opts === null && nullIsEmpty)) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw argError(op, `${notObject}, got ${fmtValue(opts)}`);
  for (const k of Object.keys(opts)) if (!valid.includes(k)) throw argError(op, unknown(k, valid));
  return opts as Options;
}

/**
 * The options of a loss or metric: checkOptions's rules, Keras's `(valid: …)` wording, and a
 * `name` that, when given, is a non-empty string.
 */
export function checkNamedOptions(op: string, opts: unknown, known: readonly string[]): Options {
  const o = checkOptions(op, opts, known, { unknown: (k, valid) => `unknown option ${fmtValue(k)} (valid: ${valid.join(', ')})` });
  if (o.name !== undefined && (typeof o.name !== 'string' || !o.name)) throw argError(op, `name must be a non-empty string, got ${fmtValue(o.name)}`);
  return o;
}

// ---- option values ----

/** v as a finite number, else ERR_ST_ARG "<what> must be a finite number, got v". */
export function finiteNumber(op: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw argError(op, `${what} must be a finite number, got ${fmtValue(v)}`);
  return v;
}

/** A finite number option; `fallback` when it is undefined. */
export function numberOr(op: string, what: string, v: unknown, fallback: number): number {
  return v === undefined ? fallback : finiteNumber(op, what, v);
}

/** v as a boolean, else ERR_ST_ARG "<what> must be true or false, got v". */
export function boolValue(op: string, what: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw argError(op, `${what} must be true or false, got ${fmtValue(v)}`);
  return v;
}

// ---- names ----

/**
 * The lookup key of a name: case and underscores ignored, so 'categorical_crossentropy',
 * 'categoricalCrossentropy' and 'CategoricalCrossentropy' meet.
 */
export function nameKey(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

/** camelCase or PascalCase as Keras's snake_case ('f1Score' → 'f1_score', 'AUC' → 'auc'). */
export function toSnakeCase(name: string): string {
  return name
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/**
 * A Keras snake_case key as camelCase ('max_value' → 'maxValue').  `digits`: an underscore
 * before a digit goes too ('beta_1' → 'beta1'); losses and metrics keep it.
 */
export function snakeToCamel(key: string, digits = true): string {
  return key.replace(digits ? /_([a-z0-9])/g : /_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * Names matched by nameKey: each name stands for itself, aliases for another name.  `resolve`
 * gives the canonical name or undefined; `names` the canonical names in their order, for messages.
 */
export class NameTable {
  private readonly byKey = new Map<string, string>();
  readonly names: readonly string[];
  constructor(names: readonly string[], aliases: readonly (readonly [string, string])[] = []) {
    this.names = names.slice();
    for (const n of names) this.byKey.set(nameKey(n), n);
    for (const [alias, n] of aliases) this.byKey.set(nameKey(alias), n);
  }
  resolve(name: string): string | undefined {
    return this.byKey.get(nameKey(name));
  }
  /** The canonical name, else ERR_ST_ARG `unknown <what> "name"; valid names: …`. */
  get(op: string, what: string, name: string, quote: (s: string) => string = JSON.stringify): string {
    const hit = this.resolve(name);
    if (hit === undefined) throw argError(op, `unknown ${what} ${quote(name)}; valid names: ${this.names.join(', ')}`);
    return hit;
  }
}

// ---- {className, config} ----

/** A saved object: Keras's class name and its options. */
export interface ClassConfig {
  className: string;
  config?: Record<string, unknown>;
}

/**
 * The name and options an id stands for: a name (no options) or a {className, config} object
 * (Keras's `class_name` too; config keys snake_case or camelCase, converted when `camelKeys`).
 * `expected` completes the message for anything else ('a constraint name, a Constraint').
 */
function parseClassId(op: string, id: unknown, expected: string, camelKeys = true): { name: string; opts: Options | undefined } {
  if (typeof id === 'string') return { name: id, opts: undefined };
  if (id === null || typeof id !== 'object' || Array.isArray(id)) throw argError(op, `expected ${expected} or a { className, config } object, got ${fmtValue(id)}`);
  const raw = id as Options;
  const name = raw.className ?? raw.class_name;
  if (typeof name !== 'string') throw argError(op, `a config needs a className string, got ${fmtValue(name)}`);
  const cfg = camelKeys ? raw.config ?? {} : raw.config;
  if (cfg === undefined) return { name, opts: undefined };
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) throw argError(op, `config of ${name} must be an object, got ${fmtValue(cfg)}`);
  if (!camelKeys) return { name, opts: cfg as Options };
  const opts: Options = {};
  for (const [k, v] of Object.entries(cfg)) opts[snakeToCamel(k)] = v;
  return { name, opts };
}

/**
 * The resolver of a family whose factories are listed by name (constraints, regularizers,
 * initializers): a name or a {className, config} object → what the named factory makes from the
 * config's options.  Unknown names throw listing the factories' names (and no aliases).
 * @example const resolve = factoryResolver('getConstraint', 'constraint', 'a constraint name, a Constraint', constraints);
 */
export function factoryResolver<T>(
  op: string,
  what: string,
  expected: string,
  factories: object,
  { aliases = [], camelKeys = true }: { aliases?: readonly (readonly [string, string])[]; camelKeys?: boolean } = {},
): (id: unknown) => T {
  const table = factories as Record<string, (opts?: Options) => T>;
  const names = new NameTable(Object.keys(table), aliases);
  return (id) => {
    const { name, opts } = parseClassId(op, id, expected, camelKeys);
    return table[names.get(op, what, name)](opts);
  };
}

/**
 * A Keras config as camelCase options (null/undefined: none).  `keep(key, value)` sees each
 * converted key and may drop it (false) or throw.
 */
export function configOptions(op: string, config: unknown, keep: (key: string, value: unknown) => boolean): Options {
  if (config === undefined || config === null) return {};
  if (typeof config !== 'object' || Array.isArray(config)) throw argError(op, `config must be an object, got ${fmtValue(config)}`);
  const out: Options = {};
  for (const [k, v] of Object.entries(config as Options)) {
    const key = snakeToCamel(k, false);
    if (keep(key, v)) out[key] = v;
  }
  return out;
}

/**
 * Classes by Keras's class name and by their other names (losses, metrics): `register` adds a
 * class, its factory and its names; names are matched by nameKey.
 */
export class ClassRegistry<T> {
  private readonly classes = new Map<string, { className: string; make: (o?: Options) => T }>();
  private readonly names = new Map<string, string>();
  /** The names given to register (and any listed first), for messages. */
  readonly primary: string[];
  constructor(primary: string[] = []) {
    this.primary = primary.slice();
  }
  register(className: string, make: (o?: Options) => T, names: string[]): void {
    this.classes.set(nameKey(className), { className, make });
    this.names.set(nameKey(className), className);
    for (const n of names) this.names.set(nameKey(n), className);
    this.primary.push(...names);
  }
  /** The class name a name (or class name) stands for, or undefined. */
  classOf(name: string): string | undefined {
    return this.names.get(nameKey(name));
  }
  /** The factory of a class name, or undefined. */
  factory(className: string): ((o?: Options) => T) | undefined {
    return this.classes.get(nameKey(className))?.make;
  }
  /** Every registered class name, in order. */
  classNames(): string[] {
    return [...this.classes.values()].map((e) => e.className);
  }
}

// ---- symbolic arguments ----

/** v as a Variable, else ERR_ST_ARG "<what> must be a symbolic Variable, got v". */
export function checkVariable(op: string, what: string, v: unknown): Variable {
  if (!(v instanceof Variable)) throw argError(op, `${what} must be a symbolic Variable, got ${fmtValue(v)}`);
  return v;
}

/** A float weight for a regularizer or constraint. */
export function checkWeight(op: string, w: unknown): Variable {
  if (!(w instanceof Variable)) throw argError(op, `expected a symbolic weight (a Variable, e.g. a shared variable), got ${fmtValue(w)}`);
  if (!isFloat(w.dtype)) throw dtypeError(op, `the weight ${w.describe()} must be float32 or float64`);
  return w;
}
