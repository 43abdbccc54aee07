// Typical user code, type-checked and never run (scripts/test-types.mjs: tsc --noEmit -p
// test/types).  It must compile without casts; each `@ts-expect-error` line is a misuse the types
// must reject (tsc fails if one of them compiles).
import * as st from 'symtensor';

const { T } = st;

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<V>() => V extends A ? 1 : 2) extends <V>() => V extends B ? 1 : 2 ? true : false;
function expectType<A, B>(_proof: Equal<A, B>): void {}

// ---- Theano's logistic regression, with updates from params.map ----
const x = T.matrix('x');
const y = T.vector('y');
const w = st.shared(st.zeros([20]), 'w');
const b = st.shared(st.tensor(0), 'b');
const p1 = T.div(1, T.add(1, T.exp(T.neg(T.dot(x, w).add(b))))); // the literal formula
const prediction = p1.greater(0.5);
const xent = y.neg().mul(T.log(p1)).sub(T.sub(1, y).mul(T.log(T.sub(1, p1))));
const cost = xent.mean().add(w.square().sum().mul(0.01));
const params = [w, b];
const grads = st.grad(cost, params);

const train = st.fn([x, y], [prediction, xent.mean()], {
  updates: params.map((param, i) => [param, param.sub(grads[i].mul(0.1))]),
  name: 'train',
});
const predict = st.fn([x], prediction);
const costOf = st.fn([x, y], cost, { updates: new Map([[b, b.mul(0.5)]]) });
const fromPairs = st.fn([x, y], cost, { updates: [[w, w.sub(grads[0].mul(0.1))], [b, 0]] });

expectType<ReturnType<typeof train.sync>, [st.Tensor, st.Tensor]>(true);
expectType<ReturnType<typeof predict.sync>, st.Tensor>(true);
expectType<Parameters<typeof train.sync>, [st.ArgValue, st.ArgValue]>(true);
expectType<Awaited<ReturnType<typeof costOf>>, st.Tensor>(true);

async function fit(xs: Float32Array[], ys: number[], steps: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < steps; i++) {
    const [pred, loss] = await train(xs, ys); // two Tensors, no cast
    total += loss.item() / steps; // item() is a number
    const ones: number = pred.cast('float32').sum().item();
    if (ones < 0) throw new Error('impossible');
  }
  const c = costOf.sync(st.tensor(xs.map((r) => Array.from(r))), st.tensor(ys));
  fromPairs.sync([[1, 2]], [0]);
  return total + c.item() * 0;
}

// ---- outputs from a list built at run time: Tensor[] ----
const outs = [cost, xent.sum()];
const both = st.fn([x, y], outs);
expectType<ReturnType<typeof both.sync>, st.Tensor[]>(true);
const inputsList = [x, y];
const dynamic = st.fn(inputsList, cost);
expectType<Parameters<typeof dynamic>, st.ArgValue[]>(true);

// ---- data by dtype ----
function rows(t: st.Tensor<'float32'>): Float32Array {
  return t.dataSync(); // the dtype is known: a Float32Array
}
async function rows64(t: st.Tensor<'float64'>): Promise<Float64Array> {
  return t.data();
}
function mask(t: st.Tensor<'bool'>): boolean {
  return t.item(); // a bool tensor's item() is a boolean
}
function anyData(t: st.Tensor): Float32Array | Float64Array | Int32Array | Uint8Array {
  return t.dataSync(); // dtype not known statically: the union
}
const f32: st.Tensor = st.zeros([2]) as st.Tensor<'float32'>; // a Tensor<'float32'> is a Tensor

// ---- givens, eval and the eager side take the same data ----
const z = x.add(1).sum();
const viaEval: number = z.eval({ x: [[1, 2], [3, 4]] }).item();

export { fit, rows, rows64, mask, anyData, f32, viaEval };

// ---- misuses that must not type-check ----
// @ts-expect-error a string is not a tensor argument
predict.sync('not a tensor');
// @ts-expect-error predict takes one argument
predict.sync([[1, 2]], [1]);
// @ts-expect-error train takes two arguments
void train([[1, 2]]);
// @ts-expect-error an object is not tensor data
predict.sync({ data: [1, 2] });
// @ts-expect-error two outputs: there is no third
const [, , third] = train.sync([[1, 2]], [1]);
// @ts-expect-error a single-output function gives a Tensor, not an array
const [first] = predict.sync([[1, 2]]);
// @ts-expect-error an update value must be a variable, tensor or number
st.fn([x, y], cost, { updates: [[w, 'w']] });
// @ts-expect-error the dtype of an untyped tensor is not known: no Float32Array without a check
const unknownRows: Float32Array = st.zeros([2]).dataSync();
// @ts-expect-error item() is a number, not a string
const label: string = st.zeros([]).item();
// @ts-expect-error fn's inputs are symbolic variables
st.fn([st.zeros([2])], cost);

export { third, first, unknownRows, label };
