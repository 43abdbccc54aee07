// Keras's merge layers: several inputs of compatible shapes combined into one, elementwise (Add,
// Subtract, Multiply, Average, Maximum, Minimum) or along an axis (Concatenate).
import { argError, fmtShape, shapeError } from '../../errors';
import * as T from '../../graph/T';
import { Variable } from '../../graph/variable';
import { normAxis } from '../../tensor/shape-util';
import { Layer, LayerArgs, Mask, Shape, registerLayer, several } from '../layer';
import { checkLayerOptions } from './core';

const fmtShapes = (shapes: Shape[]) => shapes.map((s) => fmtShape(s)).join(', ');

function shapeList(layer: Layer, shape: Shape | Shape[]): Shape[] {
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every(Array.isArray))
    throw argError(layer.name, `${layer.constructor.name} must be called on a list of inputs, got one input of shape ${fmtShape(shape as Shape)}`);
  return shape as Shape[];
}

/**
 * Keras's rule for elementwise merges: batch sizes agree where known; the other axes are aligned
 * from the right and each pair must be equal or contain a 1 (or an unknown dim).  An input of
 * lower rank is widened by size-1 axes after its batch axis.  Returns the output shape.
 */
function elementwiseShape(layer: Layer, shapes: Shape[]): Shape {
  const fail = () => shapeError(layer.name, `${layer.constructor.name} needs inputs of the same shape (or broadcastable over size-1 axes), got shapes ${fmtShapes(shapes)}`);
  if (shapes.some((s) => s.length === 0)) throw shapeError(layer.name, `${layer.constructor.name} needs inputs with a batch axis, got shapes ${fmtShapes(shapes)}`);
  const batches = new Set(shapes.map((s) => s[0]).filter((d) => d !== null));
  if (batches.size > 1) throw fail();
  const rank = Math.max(...shapes.map((s) => s.length)) - 1;
  const out: Shape = [batches.size ? [...batches][0] : null];
  for (let i = 0; i < rank; i++) {
    let known: number | null = null, unknown = false;
    for (const s of shapes) {
      const d = s[s.length - rank + i];
      if (s.length - rank + i < 1 || d === 1) continue;
      if (d === null) unknown = true;
      else if (known === null) known = d;
      else if (known !== d) throw fail();
    }
    out.push(known ?? (unknown ? null : 1));
  }
  return out;
}

/**
 * Keras's merged mask: a step is kept where every input that carries a mask keeps it (none when no
 * input carries one).  Masks are [batch, steps] with the same steps (merges keep the steps axis).
 */
function andMasks(mask: Mask | Mask[]): Mask {
  const list = (Array.isArray(mask) ? mask : [mask]).filter((m): m is Variable => m !== null && m !== undefined);
  return list.length ? list.reduce((a, b) => T.logicalAnd(a, b)) : null;
}

/** The base of the elementwise merges: checks shapes, widens lower-rank inputs, then folds. */
abstract class ElementwiseMerge extends Layer {
  /** The steps stay where they were: the output keeps the steps every masked input keeps. */
  override supportsMasking = true;
  /** The AND of the inputs' masks. */
  override computeMask(_inputs: Variable | Variable[], mask: Mask | Mask[]): Mask {
    return andMasks(mask);
  }
  constructor(args: LayerArgs = {}) {
    checkLayerOptions(new.target.name, args, []);
    super(args);
  }
  override build(inputShape: Shape | Shape[]): void {
    elementwiseShape(this, shapeList(this, inputShape));
    this.built = true;
  }
  /** Combines the (shape-checked, equal-rank) inputs. */
  protected abstract merge(xs: Variable[]): Variable;
  call(inputs: Variable | Variable[]): Variable {
    const xs = several(this, inputs, 1);
    elementwiseShape(this, xs.map((x) => x.type.shape));
    const rank = Math.max(...xs.map((x) => x.ndim));
    const widened = xs.map((x) => {
      if (x.ndim === rank) return x;
      const pattern: (number | 'x')[] = [0, ...Array<'x'>(rank - x.ndim).fill('x'), ...[...Array(x.ndim - 1).keys()].map((k) => k + 1)];
      return T.dimshuffle(x, pattern);
    });
    return this.merge(widened);
  }
}

/** Sums its inputs elementwise. @example new Add().apply([a, b]) */
export class Add extends ElementwiseMerge {
  protected merge(xs: Variable[]): Variable {
    return xs.slice(1).reduce((acc, x) => T.add(acc, x), xs[0]);
  }
}

/** The first input minus the second (exactly two inputs). @example new Subtract().apply([a, b]) */
export class Subtract extends ElementwiseMerge {
  protected merge(xs: Variable[]): Variable {
    return T.sub(xs[0], xs[1]);
  }
  override call(inputs: Variable | Variable[]): Variable {
    if (Array.isArray(inputs) && inputs.length !== 2) throw argError(this.name, `Subtract takes exactly 2 inputs, got ${inputs.length}`);
    return super.call(inputs);
  }
  override build(inputShape: Shape | Shape[]): void {
    const shapes = shapeList(this, inputShape);
    if (shapes.length !== 2) throw argError(this.name, `Subtract takes exactly 2 inputs, got ${shapes.length} (shapes ${fmtShapes(shapes)})`);
    super.build(inputShape);
  }
}

/** Multiplies its inputs elementwise. */
export class Multiply extends ElementwiseMerge {
  protected merge(xs: Variable[]): Variable {
    return xs.slice(1).reduce((acc, x) => T.mul(acc, x), xs[0]);
  }
}

/** The elementwise mean of its inputs. */
export class Average extends ElementwiseMerge {
  protected merge(xs: Variable[]): Variable {
    const sum = xs.slice(1).reduce((acc, x) => T.add(acc, x), xs[0]);
    return xs.length === 1 ? sum : T.div(sum, xs.length);
  }
}

/** The elementwise maximum of its inputs. */
export class Maximum extends ElementwiseMerge {
  protected merge(xs: Variable[]): Variable {
    return xs.slice(1).reduce((acc, x) => T.maximum(acc, x), xs[0]);
  }
}

/** The elementwise minimum of its inputs. */
export class Minimum extends ElementwiseMerge {
  protected merge(xs: Variable[]): Variable {
    return xs.slice(1).reduce((acc, x) => T.minimum(acc, x), xs[0]);
  }
}

/** The options of Concatenate. */
export interface ConcatenateArgs extends LayerArgs {
  /** The axis to join along (default -1, the last). */
  axis?: number;
}

/**
 * Joins its inputs along `axis`; their other dims must be equal.
 * @example new Concatenate({ axis: -1 }).apply([a, b]) // [?, 3] and [?, 5] → [?, 8]
 */
export class Concatenate extends Layer {
  readonly axis: number;
  constructor(args: ConcatenateArgs = {}) {
    const o = checkLayerOptions('Concatenate', args, ['axis']);
    super(args);
    const axis = o.axis ?? -1;
    if (typeof axis !== 'number' || !Number.isInteger(axis)) throw argError(this.name, `axis must be an integer, got ${String(axis)}`);
    this.axis = axis;
  }
  private check(shapes: Shape[]): number {
    const rank = shapes[0].length;
    if (shapes.some((s) => s.length !== rank))
      throw shapeError(this.name, `Concatenate needs inputs of the same rank, got shapes ${fmtShapes(shapes)}`);
    if (rank === 0) throw shapeError(this.name, `Concatenate cannot join scalars, got shapes ${fmtShapes(shapes)}`);
    if (this.axis < -rank || this.axis >= rank)
      throw shapeError(this.name, `axis ${this.axis} is out of range for inputs of rank ${rank} (shapes ${fmtShapes(shapes)})`);
    const a = normAxis(this.name, this.axis, rank);
    for (let i = 0; i < rank; i++) {
      if (i === a) continue;
      const dims = new Set(shapes.map((s) => s[i]).filter((d) => d !== null));
      if (dims.size > 1)
        throw shapeError(this.name, `Concatenate along axis ${this.axis} needs inputs whose other axes match, got shapes ${fmtShapes(shapes)} (axis ${i} differs)`);
    }
    return a;
  }
  override build(inputShape: Shape | Shape[]): void {
    const shapes = shapeList(this, inputShape);
    const a = this.check(shapes);
    // joining features keeps the steps, so masks merge; joining along the steps would need masks joined too
    this.supportsMasking = a >= 2;
    this.built = true;
  }
  /** The AND of the inputs' masks (features are joined; the steps stay). */
  override computeMask(_inputs: Variable | Variable[], mask: Mask | Mask[]): Mask {
    return andMasks(mask);
  }
  call(inputs: Variable | Variable[]): Variable {
    const xs = several(this, inputs, 1);
    const a = this.check(xs.map((x) => x.type.shape));
    return xs.length === 1 ? xs[0] : T.concat(xs, a);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
}

for (const [name, cls] of [['Add', Add], ['Subtract', Subtract], ['Multiply', Multiply], ['Average', Average], ['Maximum', Maximum],
  ['Minimum', Minimum], ['Concatenate', Concatenate]] as const)
  registerLayer(name, cls);

/** @example const sum = st.layers.add().apply([a, b]) */
export const add = (o: LayerArgs = {}) => new Add(o);
/** A Subtract layer: the first of two inputs minus the second. */
export const subtract = (o: LayerArgs = {}) => new Subtract(o);
/** A Multiply layer: the elementwise product of its inputs. */
export const multiply = (o: LayerArgs = {}) => new Multiply(o);
/** An Average layer: the elementwise mean of its inputs. */
export const average = (o: LayerArgs = {}) => new Average(o);
/** A Maximum layer: the elementwise maximum of its inputs. */
export const maximum = (o: LayerArgs = {}) => new Maximum(o);
/** A Minimum layer: the elementwise minimum of its inputs. */
export const minimum = (o: LayerArgs = {}) => new Minimum(o);
/**
 * A Concatenate layer: its inputs joined along axis (the last by default).
 * @example const both = st.layers.concatenate().apply([a, b])
 */
export const concatenate = (o: ConcatenateArgs = {}) => new Concatenate(o);
