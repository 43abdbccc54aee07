// What the GEMM and convolution epilogues share: matching act(producer(...) + bias), where the
// producer's output feeds only the add, the add's only the activation, and the bias is 1-D and
// spans the producer's last axis (its columns, its channels), all of one dtype.
import { ACT } from '../../ops.generated';
import { Apply, Variable } from '../../graph/variable';
import { localRewrite } from '../../graph/rewrite';
import { ewName } from '../../graph/match';
import { FunctionGraph } from '../../graph/fgraph';

const ACTS: Record<string, number> = ACT;
const ACT_NAMES = ['', 'relu', 'sigmoid', 'tanh'];

/** An instruction's label: `base+bias`, then `+relu` etc. for an ACT code other than none. */
export function biasActLabel(base: string, act: number): string {
  return `${base}+bias${act ? '+' + ACT_NAMES[act] : ''}`;
}

/** True when v has exactly one client in the function graph and is not one of its outputs. */
export function singleClient(v: Variable, fg: FunctionGraph | null): boolean {
  if (!fg) return false;
  const c = fg.clients().get(v) ?? [];
  return c.length === 1 && c[0].node !== 'output';
}

/** add(p, bias) with p accepted by `accepts`, feeding only the add, and a bias spanning p's last axis. */
function matchBiasAdd(add: Variable, fg: FunctionGraph | null, accepts: (p: Variable) => boolean): [Apply, Variable] | null {
  if (ewName(add) !== 'add') return null;
  const [x, y] = add.owner!.inputs;
  for (const [p, bias] of [[x, y], [y, x]] as const) {
    const node = p.owner;
    if (!node || !accepts(p)) continue;
    const dt = p.dtype;
    if (bias.dtype !== dt || add.dtype !== dt || node.inputs.some((v) => v.dtype !== dt) || !singleClient(p, fg)) continue;
    // the bias must span the axis: a static size of 1 facing more would broadcast, which the
    // kernels do not
    const bn = bias.staticShape[0], n = p.staticShape[p.ndim - 1];
    if (bias.ndim === 1 && (bn === n || (bn === null && n !== 1) || (n === null && bn !== 1 && bn !== null))) return [node, bias];
  }
  return null;
}

/**
 * A rewrite of act(producer + bias) (act: relu, sigmoid, tanh, or none for a lone add) into
 * `make(producerNode, bias, actCode)`, for producers `accepts` takes.  An add followed by an
 * activation is left to the activation's match, so the whole pattern fuses.
 */
export function biasActRewrite(name: string, accepts: (p: Variable) => boolean, make: (producer: Apply, bias: Variable, act: number) => Variable) {
  return localRewrite({
    name,
    fn(node, fg) {
      const op = ewName(node);
      let act = 0;
      let addVar = node.outputs[0];
      if (op && ACTS[op] !== undefined) {
        act = ACTS[op];
        addVar = node.inputs[0];
        if (!singleClient(addVar, fg)) return null;
      } else if (op !== 'add') return null;
      else {
        const c = fg?.clients().get(addVar) ?? [];
        if (c.length === 1 && c[0].node !== 'output' && ACTS[ewName(c[0].node) ?? ''] !== undefined) return null;
      }
      const m = matchBiasAdd(addVar, fg, accepts);
      if (!m) return null;
      const out = make(m[0], m[1], act);
      return out.dtype === node.outputs[0].dtype ? out : null;
    },
  });
}
