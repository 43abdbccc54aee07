// Errors thrown while building a graph name the user's line.
import { SymtensorError } from '../errors';
import { captureTrace } from './variable';

/**
 * Errors thrown while building (bad axes, shapes, dtypes) name the user's line: wraps each op so a
 * SymtensorError without a location gets one.
 */
export function traced<F extends (...args: never[]) => unknown>(f: F): F {
  return function (this: unknown, ...args: never[]) {
    try {
      return f.apply(this, args);
    } catch (e) {
      if (e instanceof SymtensorError && !e.where && !/\bat [^()]*:\d+:\d+\)?$/.test(e.message)) {
        const where = captureTrace();
        throw new SymtensorError(e.code, e.op, `${e.message.replace(/^\w+: /, '')} (at ${where})`, { shapes: e.shapes, where });
      }
      throw e;
    }
  } as F;
}
