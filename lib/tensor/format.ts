// numpy-like printing: aligned columns, "..." summaries for large tensors.
import { DType, TypedArray } from '../dtype';

const EDGE = 3;
const THRESHOLD = 1000;

function fmtNumber(v: number, dtype: DType, precision: number, allInts: boolean): string {
  if (dtype === 'bool') return v ? 'true' : 'false';
  if (dtype === 'int32') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (allInts && Math.abs(v) < 1e16) return `${v}.`;
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e8)) return v.toExponential(precision);
  return String(Number(v.toFixed(precision)));
}

/** Formats data of `shape` as `tensor([...], dtype=...)`. */
export function formatTensor(data: TypedArray, shape: number[], dtype: DType, precision = 4): string {
  const n = data.length;
  const summarize = n > THRESHOLD;
  let allInts = true;
  for (let i = 0; i < n && allInts; i++) allInts = Number.isInteger(data[i]);
  const strs = new Map<number, string>();
  const str = (i: number) => {
    let s = strs.get(i);
    if (s === undefined) strs.set(i, (s = fmtNumber(data[i], dtype, precision, allInts)));
    return s;
  };
  const prefix = 'tensor(';
  const rank = shape.length;
  const strides: number[] = [];
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) (strides[d] = acc), (acc *= shape[d]);
  // indices shown along each axis
  const shown = (d: number): (number | null)[] => {
    const len = shape[d];
    if (summarize && len > 2 * EDGE) return [...Array(EDGE).keys(), null, ...Array.from({ length: EDGE }, (_, i) => len - EDGE + i)];
    return [...Array(len).keys()];
  };
  let width = 0;
  const visit = (d: number, off: number) => {
    if (d === rank) return void (width = Math.max(width, str(off).length));
    for (const i of shown(d)) if (i !== null) visit(d + 1, off + i * strides[d]);
  };
  visit(0, 0);
  const render = (d: number, off: number, indent: string): string => {
    if (d === rank) return str(off).padStart(width);
    const parts = shown(d).map((i) => (i === null ? '...' : render(d + 1, off + i * strides[d], indent + ' ')));
    if (d === rank - 1) return `[${parts.join(', ')}]`;
    const sep = ',' + '\n'.repeat(rank - d - 1) + indent + ' ';
    return `[${parts.join(sep)}]`;
  };
  const body = rank === 0 ? str(0) : render(0, 0, ' '.repeat(prefix.length));
  const showDtype = dtype !== 'float32';
  const extra = n === 0 ? `, shape=[${shape.join(',')}]` : '';
  return `${prefix}${body}${extra}${showDtype ? `, dtype=${dtype}` : ''})`;
}
