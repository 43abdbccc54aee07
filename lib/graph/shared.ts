// Shared variables: values that live natively between calls of compiled functions.
import { DTYPES, DType, isDType } from '../dtype';
import { SymtensorError, argError, checkOptionKeys, dtypeError, fmtShape, fmtValue, reportedAs } from '../errors';
import { native } from '../native';
import { asTensor, tensor } from '../tensor/creation';
import { castWith } from '../tensor/elementwise';
import { eager } from '../tensor/emitter';
import { Tensor } from '../tensor/tensor';
import type { TensorData } from '../tensor/convert';
import { Variable } from './variable';
import type { Index } from './indexing';
import './indexing';

export class SharedVariable extends Variable {
  /** @internal The native storage; compiled programs read and update it in place. */
  readonly storage: Tensor;
  /** @internal Async calls that use it run one after another, in call order. */
  queue: Promise<unknown> = Promise.resolve();
  /** @internal Async calls that use it and have not finished. */
  pendingAsync = 0;

  constructor(value: Tensor, name?: string) {
    super({ dtype: value.dtype, shape: value.shape }, null, 0, name);
    this.storage = value;
    value.markMutable();
  }

  /** A copy of the current value; with indices, the symbolic subtensor (Variable.get). */
  override get(): Tensor;
  override get(indices: Index | readonly Index[]): Variable;
  override get(indices?: Index | readonly Index[]): Tensor | Variable {
    if (arguments.length) return Variable.prototype.get.call(this, indices!);
    return castWith(eager, this.storage, this.dtype);
  }

  /**
   * Frees the native value now (it is otherwise freed by the garbage collector).  Functions that
   * use the variable fail with ERR_ST_DISPOSED afterwards.
   */
  dispose(): void {
    if (this.pendingAsync > 0)
      throw new SymtensorError('ERR_ST_ARG', 'shared.dispose', `async calls that use ${this.name ?? 'this shared variable'} are still running; await them first`);
    this.storage.dispose();
  }

  /** True once dispose() was called. */
  get isDisposed(): boolean {
    return this.storage.isDisposed;
  }

  /** Replaces the value; its shape and dtype must match the variable's. */
  set(value: Tensor | TensorData): void {
    const op = 'shared.set';
    if (this.pendingAsync > 0)
      throw new SymtensorError('ERR_ST_ARG', op, `async calls that use ${this.name ?? 'this shared variable'} are still running; await them first`);
    const t = value instanceof Tensor ? value : tensor(value as TensorData, { dtype: this.dtype });
    if (t.dtype !== this.dtype || t.shape.length !== this.ndim || t.shape.some((d, i) => d !== this.staticShape[i]))
      throw new SymtensorError('ERR_ST_SHAPE', op, `${this.name ?? 'shared variable'} is ${fmtShape(this.staticShape)} ${this.dtype}; cannot set it to ${fmtShape(t.shape)} ${t.dtype}`);
    native.copyInto(this.storage.buffer(op), t.buffer(op));
    if (t !== value) t.dispose();
  }
}

/**
 * A variable whose value persists natively between calls (Theano's shared).  `value` is a Tensor
 * or data a tensor can be made from (it is copied); `opts.dtype` converts it.
 * @example const w = st.shared(st.zeros([784, 10]), 'w');
 * @example const b = st.shared([0, 0, 0], 'b', { dtype: 'float64' });
 */
export function shared(value: Tensor | TensorData, name?: string, opts?: { dtype?: DType }): SharedVariable {
  const op = 'shared';
  if (name !== undefined && name !== null && typeof name !== 'string') throw argError(op, `the name must be a string, got ${fmtValue(name)}`);
  const o = checkOptionKeys(op, opts, ['dtype']);
  if (o.dtype !== undefined && !isDType(o.dtype)) throw dtypeError(op, `unknown dtype ${fmtValue(o.dtype)}; valid: ${DTYPES.join(', ')}`);
  const dtype = o.dtype as DType | undefined;
  if (value instanceof Tensor && value.isDisposed) throw new SymtensorError('ERR_ST_DISPOSED', op, `the value${name ? ` of ${name}` : ''} is a disposed Tensor`);
  // errors converting the value (ragged arrays, strings …) are shared's, about the value
  const src = asTensor(op, value, dtype, name ? `the value of ${name}` : 'value');
  // own a private copy so later changes to `value` do not leak in
  const own = reportedAs(op, () => castWith(eager, src, dtype ?? src.dtype));
  if (src !== value) src.dispose();
  return new SharedVariable(own, name ?? undefined);
}
