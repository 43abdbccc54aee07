// Removal of shape ops that change nothing, and of stopGradient once gradients exist.
import { DimShuffle, Reshape, Transpose, BroadcastLike, ReshapeLike } from '../../graph/ops/shape';
import { StopGradient } from '../../graph/ops/control';
import { applyOp1 } from '../../graph/variable';
import { localRewrite } from '../../graph/rewrite';
import { sameStaticShape } from '../../graph/match';

export const removeNoopReshape = localRewrite({
  name: 'removeNoopReshape',
  fn(node) {
    const op = node.op;
    const [x] = node.inputs;
    const out = node.outputs[0];
    if ((op instanceof Reshape || op instanceof ReshapeLike || op instanceof BroadcastLike) && sameStaticShape(x, out)) return x;
    if (op instanceof Transpose && op.perm.every((a, i) => a === i)) return x;
    if (op instanceof DimShuffle && op.pattern.length === x.ndim && op.pattern.every((a, i) => a === i)) return x;
    return null;
  },
});

export const reshapeReshape = localRewrite({
  name: 'reshapeReshape',
  fn(node) {
    if (!(node.op instanceof Reshape)) return null;
    const inner = node.inputs[0].owner;
    if (!inner || !(inner.op instanceof Reshape)) return null;
    return applyOp1(new Reshape(node.op.target), [inner.inputs[0]]);
  },
});

export const removeStopGradient = localRewrite({
  name: 'removeStopGradient',
  fn(node) {
    return node.op instanceof StopGradient ? node.inputs[0] : null;
  },
});
