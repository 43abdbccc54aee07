// Keras's StackedRNNCells: several cells run one after the other inside each step of an RNN, so
// that one scan computes a deep recurrent network.  The step's state is every cell's states in
// order; cell k reads cell k-1's output of the same step.
import { argError, fmtShape, fmtValue, shapeError } from '../../errors';
import { Variable } from '../../graph/variable';
import { CallContext, Layer, LayerArgs, Shape, classNameOf, registerLayer } from '../layer';
import { checkLayerOptions } from './core';
import { CellLike, RecurrentCell, makeCell } from './recurrent';

type V = Variable;

/** Options of {@link StackedRNNCells}. */
export interface StackedRNNCellsArgs extends LayerArgs {
  /** The cells, first to last: layer instances (LSTMCell, GRUCell, custom cells) or their {className, config}. */
  cells: (CellLike | { className: string; config?: Record<string, unknown> })[];
}

const sizesOf = (c: CellLike): number[] => (Array.isArray(c.stateSize) ? c.stateSize.slice() : [c.stateSize]);

/**
 * Keras's StackedRNNCells: a cell made of cells applied in sequence at every step (the input of
 * cell k is the output of cell k-1).  Its states are the cells' states, flattened in order (an
 * LSTM cell contributes h and c), so `rnn({ cell, returnState: true })` returns
 * [output, ...every cell's states]; its output is the last cell's.  Params: the sum of the cells'.
 * The built-in cells' dropout options apply only when a cell runs alone in an RNN layer, so cells
 * with dropout are refused here.
 * @example
 *   const cell = st.layers.stackedRNNCells({ cells: [new st.layers.LSTMCell({ units: 32 }), new st.layers.LSTMCell({ units: 16 })] });
 *   const y = st.layers.rnn({ cell }).apply(x); // [batch, 16]
 */
export class StackedRNNCells extends Layer {
  /** The cells, in the order each step applies them. */
  readonly cells: CellLike[];

  constructor(args: StackedRNNCellsArgs) {
    const o = checkLayerOptions('StackedRNNCells', args, ['cells']);
    super(args);
    if (!Array.isArray(o.cells) || o.cells.length === 0)
      throw argError(this.name, `cells must be a non-empty list of cells (e.g. [new st.layers.LSTMCell({ units: 8 })]), got ${fmtValue(o.cells)}`);
    this.cells = o.cells.map((c, i) => {
      const cell = makeCell(`${this.name} (cell ${i})`, c);
      const sizes = sizesOf(cell);
      if (!sizes.length || sizes.some((d) => !Number.isInteger(d) || d <= 0))
        throw argError(this.name, `cell ${i} (${cell.name}) must have a stateSize of positive integers, got ${fmtValue(cell.stateSize)}`);
      if (cell instanceof RecurrentCell && (cell.dropout > 0 || cell.recurrentDropout > 0))
        throw argError(this.name, `cell ${i} (${cell.name}) has dropout ${cell.dropout} and recurrentDropout ${cell.recurrentDropout}; dropout inside stacked cells is not supported (use dropout 0, or separate recurrent layers)`);
      return cell;
    });
    if (new Set(this.cells).size !== this.cells.length) throw argError(this.name, 'the same cell instance appears twice in cells; give each position its own cell');
  }

  /** Every cell's state sizes, in order. */
  get stateSize(): number[] {
    return this.cells.flatMap(sizesOf);
  }

  /** The last cell's output width. */
  get outputSize(): number {
    return outWidth(this.cells[this.cells.length - 1]);
  }

  override subLayers(): Layer[] {
    return this.cells;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? (inputShape as Shape[])[0] : inputShape) as Shape;
    if (s.length !== 2 || s[1] === null) throw shapeError(this.name, `the cells need inputs [batch, features] with known features, got ${fmtShape(s)}`);
    let width = s[1] as number;
    for (const cell of this.cells) {
      cell.ensureBuilt([s[0], width]);
      width = outWidth(cell);
    }
    this.built = true;
  }

  /** [x, ...states] → [output, ...newStates], the cells applied in order. */
  call(inputs: V | V[], ctx: CallContext): V[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const n = this.stateSize.length;
    if (list.length !== 1 + n) throw argError(this.name, `takes [input, ...states] with ${n} states (${this.cells.map((c) => `${c.name}: ${sizesOf(c).length}`).join(', ')}), got ${list.length} value${list.length === 1 ? '' : 's'}`);
    let x = list[0];
    let k = 1;
    const next: V[] = [];
    for (const cell of this.cells) {
      const m = sizesOf(cell).length;
      const r = cell.call([x, ...list.slice(k, k + m)], ctx);
      const out = Array.isArray(r) ? r : [r];
      if (out.length !== 1 + m) throw argError(this.name, `cell ${cell.name} returned ${out.length} values; it must return [output, ...newStates] (${m} state${m === 1 ? '' : 's'})`);
      x = out[0];
      next.push(...out.slice(1));
      k += m;
    }
    return [x, ...next];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), cells: this.cells.map((c) => ({ className: classNameOf(c), config: c.getConfig() })) };
  }
}
registerLayer('StackedRNNCells', StackedRNNCells);

function outWidth(c: CellLike): number {
  return c.outputSize ?? sizesOf(c)[0];
}

/**
 * Cells applied one after the other at every step, for `st.layers.rnn({ cell })`; see {@link StackedRNNCells}.
 * @example st.layers.rnn({ cell: st.layers.stackedRNNCells({ cells: [new st.layers.GRUCell({ units: 8 }), new st.layers.GRUCell({ units: 8 })] }) })
 */
export const stackedRNNCells = (o: StackedRNNCellsArgs) => new StackedRNNCells(o);
