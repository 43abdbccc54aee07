// The MLP the mlp-* workloads share (not a workload itself): 784-512-512-10, ReLU, softmax
// cross-entropy, weights initialised like PyTorch's Linear (uniform ±1/sqrt(fan_in)), synthetic
// data with fixed seeds.  symtensor's version is written with the symbolic API: shared weights,
// st.grad, and one compiled st.fn per training step with the optimizer as updates.
// The Python peers build the same model in bench/peers/{numpy,torch}_bench.py.

export const SIZES = [784, 512, 512, 10];
export const BATCH = 128;
export const SGD_LR = 0.01;
export const ADAM = { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
export type Optimizer = 'sgd' | 'adam';

/**
 * Floating-point operations of the matrix products: a forward pass is 2·B·Σ fin·fout; a training
 * step adds the weight gradients (as many) and the input gradients of every layer but the first
 * (its input is the data, so none is computed).
 */
export function mlpFlops(batch: number, train: boolean): number {
  const per = SIZES.slice(1).map((fout, i) => 2 * batch * SIZES[i] * fout);
  const fwd = per.reduce((a, b) => a + b, 0);
  return train ? 3 * fwd - per[0] : fwd;
}

/** The matrix products of one training step as [M, K, N, transA, transB] (op(A) is M×K). */
export function stepGemms(batch: number): [number, number, number, boolean, boolean][] {
  const out: [number, number, number, boolean, boolean][] = [];
  SIZES.slice(1).forEach((fout, i) => {
    const fin = SIZES[i];
    out.push([batch, fin, fout, false, false]); // forward: h · W
    out.push([fin, batch, fout, true, false]); // weight gradient: hᵀ · d
    if (i > 0) out.push([batch, fout, fin, false, true]); // input gradient: d · Wᵀ
  });
  return out;
}

/** Spec for the Python peers' mlp_* kinds. */
export function pySpec(kind: string, batch: number, extra: Record<string, unknown> = {}) {
  return { kind, sizes: SIZES, batch, seed: 1, ...extra };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export interface StMlp {
  params: Any[];
  /** The compiled training step (x, labels) -> mean loss; null for inference only. */
  step: Any | null;
  /** The compiled forward pass x -> class probabilities. */
  predict: Any;
  x: Any;
  y: Any;
  dispose(): void;
}

/** symtensor's MLP with its compiled step and prediction functions, and a batch of data. */
export function stMlp(st: Any, o: { batch: number; optimizer?: Optimizer; profile?: boolean; seed?: number }): StMlp {
  const { T } = st;
  const seed = o.seed ?? 1;
  const params: Any[] = [];
  SIZES.slice(1).forEach((fout, i) => {
    const fin = SIZES[i];
    const k = 1 / Math.sqrt(fin);
    params.push(st.shared(st.randomUniform([fin, fout], { low: -k, high: k, seed: seed * 100 + 2 * i }), `W${i + 1}`));
    params.push(st.shared(st.randomUniform([fout], { low: -k, high: k, seed: seed * 100 + 2 * i + 1 }), `b${i + 1}`));
  });
  const x = T.matrix('x');
  const labels = T.ivector('labels');
  let h = x;
  for (let i = 0; i < params.length; i += 2) {
    h = T.dot(h, params[i]).add(params[i + 1]);
    if (i + 2 < params.length) h = T.relu(h);
  }
  const probs = T.softmax(h);
  const predict = st.fn([x], probs, { name: 'predict' });

  let step: Any = null;
  const extra: Any[] = []; // optimizer state
  if (o.optimizer) {
    const loss = T.sparseCategoricalCrossentropy(labels, probs).mean();
    const grads = st.grad(loss, params);
    const updates: [Any, Any][] = [];
    if (o.optimizer === 'sgd') {
      params.forEach((p, i) => updates.push([p, p.sub(grads[i].mul(SGD_LR))]));
    } else {
      // Adam as PyTorch computes it: p -= lr/(1-β1ᵗ) · m / (sqrt(v)/sqrt(1-β2ᵗ) + eps)
      const { lr, beta1, beta2, eps } = ADAM;
      const t = st.shared(st.tensor(0), 't');
      extra.push(t);
      const t1 = t.add(1);
      const stepSize = T.div(lr, T.sub(1, T.pow(beta1, t1)));
      const bc2 = T.sqrt(T.sub(1, T.pow(beta2, t1)));
      updates.push([t, t1]);
      params.forEach((p, i) => {
        const g = grads[i];
        const m = st.shared(st.zeros(p.staticShape), `m_${p.name}`);
        const v = st.shared(st.zeros(p.staticShape), `v_${p.name}`);
        extra.push(m, v);
        const m1 = m.mul(beta1).add(g.mul(1 - beta1));
        const v1 = v.mul(beta2).add(g.square().mul(1 - beta2));
        updates.push([m, m1], [v, v1], [p, p.sub(m1.mul(stepSize).div(T.sqrt(v1).div(bc2).add(eps)))]);
      });
    }
    step = st.fn([x, labels], loss, { updates, name: `${o.optimizer}_step`, profile: !!o.profile });
  }

  const X = st.randomNormal([o.batch, SIZES[0]], { seed: 11 });
  const u = st.randomUniform([o.batch], { low: 0, high: SIZES[SIZES.length - 1], seed: 12 });
  const Y = u.floor().cast('int32');
  u.dispose();
  return {
    params,
    step,
    predict,
    x: X,
    y: Y,
    dispose() {
      step?.dispose();
      predict.dispose();
      X.dispose();
      Y.dispose();
      for (const p of [...params, ...extra]) p.dispose();
    },
  };
}

export interface TfMlp {
  /** One training step (loss disposed). */
  step(): void;
  /** Class probabilities of the batch (the caller disposes them). */
  predict(): Any;
  dispose(): void;
}

/** The same MLP in TensorFlow.js: variables, optimizer.minimize, tf.losses.softmaxCrossEntropy. */
export function tfMlp(tf: Any, o: { batch: number; optimizer?: Optimizer }): TfMlp {
  const vars: Any[] = [];
  SIZES.slice(1).forEach((fout, i) => {
    const fin = SIZES[i];
    const k = 1 / Math.sqrt(fin);
    vars.push(tf.variable(tf.randomUniform([fin, fout], -k, k, 'float32', 100 + 2 * i)));
    vars.push(tf.variable(tf.randomUniform([fout], -k, k, 'float32', 101 + 2 * i)));
  });
  const x = tf.randomNormal([o.batch, SIZES[0]], 0, 1, 'float32', 11);
  const y = tf.tidy(() => tf.oneHot(tf.randomUniform([o.batch], 0, SIZES[SIZES.length - 1], 'int32', 12), SIZES[SIZES.length - 1]).toFloat());
  const forward = (): Any => {
    let h = x;
    for (let i = 0; i < vars.length; i += 2) {
      h = tf.add(tf.matMul(h, vars[i]), vars[i + 1]);
      if (i + 2 < vars.length) h = tf.relu(h);
    }
    return h;
  };
  const opt = o.optimizer === 'adam'
    ? tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.eps)
    : o.optimizer === 'sgd' ? tf.train.sgd(SGD_LR) : null;
  return {
    step() {
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, forward()), true, vars);
      loss.dispose();
    },
    predict: () => tf.tidy(() => tf.softmax(forward())),
    dispose() {
      opt?.dispose();
      for (const v of vars) v.dispose();
      x.dispose();
      y.dispose();
    },
  };
}
