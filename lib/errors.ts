import { ERR_CODES } from './ops.generated';

/**
 * Kinds of failure, as `.code` on every error symtensor throws: 'ERR_ST_ARG', 'ERR_ST_SHAPE',
 * 'ERR_ST_DTYPE', 'ERR_ST_INDEX', 'ERR_ST_ALLOC', 'ERR_ST_INTERNAL', 'ERR_ST_DISPOSED',
 * 'ERR_ST_VALUE', 'ERR_ST_LOAD' (the list is native/ops.def's, shared with the addon).
 */
export type SymtensorErrorCode = (typeof ERR_CODES)[number];

function isErrorCode(code: unknown): code is SymtensorErrorCode {
  return typeof code === 'string' && (ERR_CODES as readonly string[]).includes(code);
}

/** An error from symtensor: names the op, and carries the shapes/dtypes involved. */
export class SymtensorError extends Error {
  readonly code: SymtensorErrorCode;
  readonly op: string;
  readonly shapes?: number[][];
  /** Where the user created the failing node (symbolic graphs), when known. */
  readonly where?: string;

  constructor(code: SymtensorErrorCode, op: string, message: string, extra: { shapes?: number[][]; where?: string } = {}) {
    super(message.startsWith(op + ':') ? message : `${op}: ${message}`);
    this.name = 'SymtensorError';
    this.code = code;
    this.op = op;
    if (extra.shapes) this.shapes = extra.shapes;
    if (extra.where) this.where = extra.where;
  }
}

/** Formats a shape as numpy prints it, e.g. [2,3]. */
export function fmtShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

/**
 * Any value as short text for a message.  Never throws (JSON.stringify does on a BigInt and on
 * cycles, String() on a Symbol inside a template or on an object without toString).
 */
export function fmtValue(v: unknown, depth = 0): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
    case 'bigint':
      return `${v}n`;
    case 'symbol':
      return v.toString();
    case 'function':
      return `a function${v.name ? ' ' + v.name : ''}`;
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        if (depth > 2) return '[…]';
        const items = v.slice(0, 8).map((x) => fmtValue(x, depth + 1));
        return `[${items.join(',')}${v.length > 8 ? `,… (${v.length} entries)` : ''}]`;
      }
      if (ArrayBuffer.isView(v)) return `${article(v.constructor?.name ?? 'typed array')} of ${v.byteLength} bytes`;
      const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
      return typeof name === 'string' && name && name !== 'Object' ? article(name) : 'an object';
    }
    default:
      return String(v);
  }
}

/** "a Tensor", "an InputVariable". */
function article(name: string): string {
  return `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}`;
}

export function shapeError(op: string, message: string, shapes?: number[][]): SymtensorError {
  return new SymtensorError('ERR_ST_SHAPE', op, message, { shapes });
}

export function argError(op: string, message: string): SymtensorError {
  return new SymtensorError('ERR_ST_ARG', op, message);
}

export function dtypeError(op: string, message: string): SymtensorError {
  return new SymtensorError('ERR_ST_DTYPE', op, message);
}

/**
 * The same failure reported as `op`'s (the function the user called, when the error came from a
 * step inside it): the code, shapes and location stay, the message is `message` (by default the
 * inner error's whole message, its op name included, so the detail is kept).
 * @example relabel(e, 'std', e.message) // "std: variance: axis must be an integer, got …"
 */
export function relabel(e: SymtensorError, op: string, message: string = e.message): SymtensorError {
  return new SymtensorError(e.code, op, message, { shapes: e.shapes, where: e.where });
}

/** Re-throws an error from the addon as a SymtensorError with the op's context added. */
export function wrapNativeError(e: unknown, op: string, context: string): never {
  const err = e as { code?: string; message?: string };
  const code: SymtensorErrorCode = isErrorCode(err?.code) ? err.code : 'ERR_ST_INTERNAL';
  const msg = String(err?.message ?? e);
  throw new SymtensorError(code, op, context ? `${msg.replace(/^[\w]+: /, '')} (${context})` : msg);
}

/**
 * f(), with a SymtensorError thrown by one of its inner steps (another op's name on it) reported
 * as `op`'s, the inner message kept as its detail; errors that already name `op` pass unchanged.
 * For public functions built from other public functions (st.std from variance, st.dot from matmul).
 * @example reportedAs('std', () => composites.std(ops, x, axis)) // "std: variance: axis must be …"
 */
export function reportedAs<R>(op: string, f: () => R): R {
  try {
    return f();
  } catch (e) {
    if (e instanceof SymtensorError && e.op !== op) throw relabel(e, op);
    throw e;
  }
}

/**
 * An options argument checked up front: undefined gives {}; anything but a plain object, or an
 * object with a key outside `valid`, is an ERR_ST_ARG naming `op` and listing the valid keys.
 * @example const o = checkOptionKeys('shared', opts, ['dtype']);
 */
export function checkOptionKeys(op: string, opts: unknown, valid: readonly string[], what = 'options'): Record<string, unknown> {
  if (opts === undefined) return {};
  const proto = opts !== null && typeof opts === 'object' ? Object.getPrototypeOf(opts) : undefined;
  if (proto !== Object.prototype && proto !== null) throw argError(op, `${what} must be an object, got ${fmtValue(opts)}`);
  const extra = Object.keys(opts as object).filter((k) => !valid.includes(k));
  if (extra.length)
    throw argError(op, `unknown ${what === 'options' ? 'option' : `key in ${what}`}${extra.length > 1 ? 's' : ''} ${extra.map((k) => fmtValue(k)).join(', ')}; valid: ${valid.join(', ') || '(none)'}`);
  return opts as Record<string, unknown>;
}
