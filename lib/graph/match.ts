// Pattern-matching helpers shared by the rewrites (here and in lib/compile/rewrites).
import { Constant, Variable, Apply } from './variable';
import { Elemwise } from './ops/elemwise';

/** The node's op name when it is an elementwise op. */
export function ewName(v: Variable | Apply | null | undefined): string | null {
  const node = v instanceof Variable ? v.owner : v;
  return node && node.op instanceof Elemwise ? node.op.fn : null;
}

/** The value of a constant holding one element (any rank), else null. */
export function scalarValue(v: Variable): number | null {
  if (!(v instanceof Constant) || v.value.size !== 1 || v.value.isDisposed) return null;
  return Number(v.value.dataSync()[0]);
}

/** True when both static shapes are fully known and equal. */
export function sameStaticShape(a: Variable, b: Variable): boolean {
  return a.ndim === b.ndim && a.staticShape.every((d, i) => d !== null && d === b.staticShape[i]);
}

/** True when b's static shape is at least as specific as a's in every dim (safe to substitute). */
export function sameShapeOrUnknown(a: Variable, b: Variable): boolean {
  return a.ndim === b.ndim && a.staticShape.every((d, i) => d === b.staticShape[i]);
}
