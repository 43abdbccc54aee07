// Keras's layer wrappers: Bidirectional (a recurrent layer run both ways, outputs merged) and
// TimeDistributed (a layer applied to every step of a sequence, as one call over batch·steps).
import { argError, fmtShape, fmtValue, shapeError } from '../../errors';
import * as T from '../../graph/T';
import { Variable } from '../../graph/variable';
import type { Tensor } from '../../tensor/tensor';
import type { TensorData } from '../../tensor/convert';
import { CallContext, Layer, LayerArgs, Mask, Shape, classNameOf, layerClass, registerLayer, single } from '../layer';
import { checkLayerOptions } from './core';
import { RNN } from './recurrent';

type V = Variable;
/** A layer, or a saved layer config ({className, config}). */
type LayerId = Layer | { className: string; config?: Record<string, unknown> };

function makeLayer(owner: string, what: string, l: unknown): Layer {
  if (l instanceof Layer) return l;
  if (l && typeof l === 'object' && typeof (l as { className?: unknown }).className === 'string') {
    const { className, config } = l as { className: string; config?: Record<string, unknown> };
    return new (layerClass(className))(config ?? {});
  }
  throw argError(owner, `${what} must be a layer or its {className, config}, got ${fmtValue(l)}`);
}

const layerConfig = (l: Layer) => ({ className: classNameOf(l), config: l.getConfig() });

/** How Bidirectional combines the forward and backward outputs (null: return both). */
export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave' | null;
const MERGE_MODES = ['concat', 'sum', 'mul', 'ave'];

export interface BidirectionalArgs extends LayerArgs {
  /** The forward recurrent layer (LSTM, GRU, SimpleRNN or RNN). */
  layer: LayerId;
  /** How the two outputs combine (default 'concat'); null returns [forward, backward]. */
  mergeMode?: MergeMode;
  /** The backward layer (default: a copy of `layer`'s config running the other way). */
  backwardLayer?: LayerId;
}

/**
 * Keras's Bidirectional: the layer over the steps forwards and a copy backwards, their outputs
 * merged (a backward sequence output is put back in step order first).  Inputs as the wrapped
 * layer's: x, [x, mask], [x, ...initialStates] (forward states first, then backward) or
 * [x, mask, ...initialStates].  A Keras mask carried by x goes to both directions, and with
 * returnSequences the output carries it on.  With returnState: [output, ...forwardStates,
 * ...backwardStates].  A stateful layer makes both directions stateful (each carries its final
 * states into the next batch, as in Keras).  Params: twice the layer's.
 * @example st.layers.bidirectional({ layer: st.layers.lstm({ units: 32, returnSequences: true }) })
 */
export class Bidirectional extends Layer {
  /** A Keras mask on the input reaches both recurrent layers. */
  override supportsMasking = true;
  readonly forwardLayer: RNN;
  readonly backwardLayer: RNN;
  readonly mergeMode: MergeMode;

  constructor(args: BidirectionalArgs) {
    const o = checkLayerOptions('Bidirectional', args, ['layer', 'mergeMode', 'backwardLayer']);
    super(args);
    const fwd = makeLayer(this.name, 'layer', o.layer);
    if (!(fwd instanceof RNN)) throw argError(this.name, `wraps a recurrent layer (LSTM, GRU, SimpleRNN, RNN), got ${classNameOf(fwd)}`);
    const mm = o.mergeMode === undefined ? 'concat' : o.mergeMode;
    if (mm !== null && !MERGE_MODES.includes(mm as string)) throw argError(this.name, `mergeMode must be one of ${MERGE_MODES.join(', ')} or null, got ${fmtValue(mm)}`);
    this.mergeMode = mm as MergeMode;
    let bwd: Layer;
    if (o.backwardLayer !== undefined) bwd = makeLayer(this.name, 'backwardLayer', o.backwardLayer);
    else bwd = new (layerClass(classNameOf(fwd)))({ ...fwd.getConfig(), name: `backward_${fwd.name}`, goBackwards: !fwd.goBackwards });
    if (!(bwd instanceof RNN)) throw argError(this.name, `backwardLayer must be a recurrent layer, got ${classNameOf(bwd)}`);
    if (bwd.returnSequences !== fwd.returnSequences || bwd.returnState !== fwd.returnState || bwd.stateful !== fwd.stateful || bwd.goBackwards === fwd.goBackwards)
      throw argError(this.name, 'backwardLayer must have the same returnSequences, returnState and stateful as layer, and the opposite goBackwards');
    this.forwardLayer = fwd;
    this.backwardLayer = bwd;
  }

  override subLayers(): Layer[] {
    return [this.forwardLayer, this.backwardLayer];
  }

  /** Whether both directions carry their final states into the next batch (Keras's stateful). */
  get stateful(): boolean {
    return this.forwardLayer.stateful;
  }

  /**
   * Sets both directions' states to zeros (stateful layers only), or to the given values:
   * the forward layer's states, then the backward layer's.
   */
  resetStates(values?: (Tensor | TensorData)[]): void {
    if (!this.stateful) throw argError(`${this.name}.resetStates`, 'the wrapped layers are not stateful (create the layer with stateful: true)');
    if (values === undefined) {
      this.forwardLayer.resetStates();
      this.backwardLayer.resetStates();
      return;
    }
    const n = this.forwardLayer.stateSizes.length;
    if (!Array.isArray(values) || values.length !== 2 * n)
      throw argError(`${this.name}.resetStates`, `expected ${2 * n} state values (the forward layer's ${n}, then the backward layer's ${n}), got ${Array.isArray(values) ? values.length : fmtValue(values)}`);
    this.forwardLayer.resetStates(values.slice(0, n));
    this.backwardLayer.resetStates(values.slice(n));
  }

  override build(inputShape: Shape | Shape[]): void {
    this.forwardLayer.ensureBuilt(inputShape);
    this.backwardLayer.ensureBuilt(inputShape);
    this.built = true;
  }

  /** The input's mask for each sequence output (with returnSequences), none for states or a last step. */
  override computeMask(_inputs: V | V[], mask: Mask | Mask[]): Mask | Mask[] {
    const m = (Array.isArray(mask) ? mask[0] : mask) ?? null;
    const out = this.forwardLayer.returnSequences ? m : null;
    const outs = this.mergeMode === null ? [out, out] : [out];
    return this.forwardLayer.returnState ? [...outs, ...this.forwardLayer.stateSizes.map(() => null), ...this.backwardLayer.stateSizes.map(() => null)] : outs.length === 1 ? out : outs;
  }

  call(inputs: V | V[], ctx: CallContext, kerasMask?: Mask | Mask[]): V | V[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const xMask = (Array.isArray(kerasMask) ? kerasMask[0] : kerasMask) ?? null;
    const maskFor = (ins: V[]) => (xMask ? (ins.length === 1 ? xMask : [xMask, ...ins.slice(1).map(() => null)]) : undefined);
    const n = this.forwardLayer.stateSizes.length;
    // initial states: the forward layer's, then the backward layer's
    let fIn: V[] = list, bIn: V[] = list;
    const extra = list.length - 1;
    if (extra === 2 * n || extra === 2 * n + 1) {
      const head = list.slice(0, extra - 2 * n + 1);
      fIn = [...head, ...list.slice(head.length, head.length + n)];
      bIn = [...head, ...list.slice(head.length + n)];
    } else if (extra > 1) throw argError(this.name, `inputs must be x, [x, mask], [x, ...initialStates] (${2 * n}: forward then backward) or [x, mask, ...initialStates], got ${list.length} inputs`);
    const f = this.forwardLayer.call(fIn.length === 1 ? fIn[0] : fIn, ctx, maskFor(fIn));
    const b = this.backwardLayer.call(bIn.length === 1 ? bIn[0] : bIn, ctx, maskFor(bIn));
    const [fy, ...fs] = Array.isArray(f) ? f : [f];
    let [by, ...bs] = Array.isArray(b) ? b : [b];
    if (this.forwardLayer.returnSequences) by = by.get([T.slice(null, null), T.slice(null, null, -1)]);
    let y: V | V[];
    switch (this.mergeMode) {
      case 'concat': y = T.concat([fy, by], -1); break;
      case 'sum': y = T.add(fy, by); break;
      case 'mul': y = T.mul(fy, by); break;
      case 'ave': y = T.mul(T.add(fy, by), 0.5); break;
      default: y = [fy, by];
    }
    if (!this.forwardLayer.returnState) return y;
    return [...(Array.isArray(y) ? y : [y]), ...fs, ...bs];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), layer: layerConfig(this.forwardLayer), mergeMode: this.mergeMode, backwardLayer: layerConfig(this.backwardLayer) };
  }
}
registerLayer('Bidirectional', Bidirectional);
/** Runs a recurrent layer forwards and backwards and merges the outputs; see {@link Bidirectional}. */
export const bidirectional = (o: BidirectionalArgs) => new Bidirectional(o);

export interface TimeDistributedArgs extends LayerArgs {
  /** The layer applied to every step. */
  layer: LayerId;
}

/**
 * Keras's TimeDistributed: the layer applied to each step of [batch, steps, ...] with the same
 * weights (computed as one call on [batch·steps, ...]).  A Keras mask on the input passes through
 * to the output unchanged.  Params: the layer's.
 * @example st.layers.timeDistributed({ layer: st.layers.dense({ units: 10 }) })
 */
export class TimeDistributed extends Layer {
  /** The steps stay where they were, so their mask passes through. */
  override supportsMasking = true;
  readonly layer: Layer;
  constructor(args: TimeDistributedArgs) {
    const o = checkLayerOptions('TimeDistributed', args, ['layer']);
    super(args);
    this.layer = makeLayer(this.name, 'layer', o.layer);
  }
  override subLayers(): Layer[] {
    return [this.layer];
  }
  override build(inputShape: Shape | Shape[]): void {
    const s = inputShape as Shape;
    if (Array.isArray(s[0]) || s.length < 3) throw shapeError(this.name, `TimeDistributed expects one input [batch, steps, ...], got ${fmtValue(inputShape)}`);
    const flat = s[0] !== null && s[1] !== null ? (s[0] as number) * (s[1] as number) : null;
    this.layer.ensureBuilt([flat, ...s.slice(2)]);
    this.built = true;
  }
  call(inputs: V | V[], ctx: CallContext): V {
    const x = single(this, inputs);
    if (x.ndim < 3) throw shapeError(this.name, `TimeDistributed expects [batch, steps, ...], got ${fmtShape(x.type.shape)}`);
    const rest = x.type.shape.slice(2);
    const flat = T.reshape(x, [-1, ...rest.map((d, i) => d ?? x.shape[i + 2])] as (number | V)[]);
    const out = this.layer.call(flat, ctx);
    if (Array.isArray(out)) throw argError(this.name, `the wrapped layer ${this.layer.name} returned ${out.length} outputs; TimeDistributed needs one`);
    const [b, s] = x.type.shape;
    const outRest = out.type.shape.slice(1).map((d, i) => d ?? out.shape[i + 1]);
    return T.reshape(out, [b ?? x.shape[0], s ?? x.shape[1], ...outRest] as (number | V)[]);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), layer: layerConfig(this.layer) };
  }
}
registerLayer('TimeDistributed', TimeDistributed);
/** Applies a layer to every step of a sequence; see {@link TimeDistributed}. */
export const timeDistributed = (o: TimeDistributedArgs) => new TimeDistributed(o);
