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

export function shapeError(op: string, message: string, shapes?: number[][]): SymtensorError {
  return new SymtensorError('ERR_ST_SHAPE', op, message, { shapes });
}

export function argError(op: string, message: string): SymtensorError {
  return new SymtensorError('ERR_ST_ARG', op, message);
}

export function dtypeError(op: string, message: string): SymtensorError {
  return new SymtensorError('ERR_ST_DTYPE', op, message);
}

/** Re-throws an error from the addon as a SymtensorError with the op's context added. */
export function wrapNativeError(e: unknown, op: string, context: string): never {
  const err = e as { code?: string; message?: string };
  const code: SymtensorErrorCode = isErrorCode(err?.code) ? err.code : 'ERR_ST_INTERNAL';
  const msg = String(err?.message ?? e);
  throw new SymtensorError(code, op, context ? `${msg.replace(/^[\w]+: /, '')} (${context})` : msg);
}
