// constantFolding: a node whose inputs are all constants is computed now, once.
import { eager } from '../../tensor/emitter';
import { Tensor } from '../../tensor/tensor';
import { Constant } from '../../graph/variable';
import { localRewrite } from '../../graph/rewrite';

const MAX_FOLD = 1 << 20;

export const constantFolding = localRewrite({
  name: 'constantFolding',
  fn(node) {
    if (node.outputs.length !== 1 || !node.inputs.length || !node.inputs.every((v) => v instanceof Constant)) return null;
    if (node.outputs[0].staticShape.some((d) => d === null) || node.outputs[0].staticShape.reduce<number>((a, d) => a * (d ?? 0), 1) > MAX_FOLD) return null;
    const [out] = node.op.lower(eager, node.inputs.map((v) => (v as Constant).value), node) as Tensor[];
    const c = new Constant(out.dtype === node.outputs[0].dtype ? out : out.cast(node.outputs[0].dtype));
    return c;
  },
});
