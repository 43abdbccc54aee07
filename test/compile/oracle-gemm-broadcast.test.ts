// matmul followed by a bias, a scale and an activation, where the bias broadcasts: compiled
// (through gemmEpilogue / gemmAccumulate and fusion) against the plain-loop reference.  A bias of
// shape [1, n], [m, 1] or [1, 1] must broadcast up to the product, never become the accumulator a
// product is written into.
import * as st from '../../lib/index';
import * as R from '../support/reference';
import { expectTensor, toSt } from '../support/check';

const { T } = st;
type Form = 'add' | 'scaledAdd' | 'scaledSub' | 'relu' | 'sigmoid';

/** The expression on either side: Ref functions for the reference, T for the graph. */
function refOf(form: Form, mm: R.Ref, c: R.Ref): R.Ref {
  switch (form) {
    case 'add': return R.binary('add', mm, c);
    case 'scaledAdd': return R.binary('add', c, R.binary('mul', mm, 2));
    case 'scaledSub': return R.binary('sub', c, R.binary('mul', mm, 0.5));
    case 'relu': return R.unary('relu', R.binary('add', mm, c));
    case 'sigmoid': return R.unary('sigmoid', R.binary('add', c, mm));
  }
}
function symOf(form: Form, mm: st.Variable, c: st.Variable): st.Variable {
  switch (form) {
    case 'add': return T.add(mm, c);
    case 'scaledAdd': return T.add(c, T.mul(mm, 2));
    case 'scaledSub': return T.sub(c, T.mul(mm, 0.5));
    case 'relu': return T.relu(T.add(mm, c));
    case 'sigmoid': return T.sigmoid(T.add(c, mm));
  }
}

describe('matmul + broadcasting bias, compiled, against plain loops', () => {
  it('every bias shape, scale and activation, with known and unknown dims', () => {
    const rng = new R.Rng(2718);
    const forms: Form[] = ['add', 'scaledAdd', 'scaledSub', 'relu', 'sigmoid'];
    for (let i = 0; i < 80; i++) {
      const m = rng.int(1, 6), k = rng.int(1, 6), n = rng.int(1, 6);
      const dtype = rng.bool() ? 'float32' : 'float64';
      const ta = rng.bool(0.3), tb = rng.bool(0.3);
      const a = R.randomRef(rng, ta ? [k, m] : [m, k], dtype);
      const b = R.randomRef(rng, tb ? [n, k] : [k, n], dtype);
      const cShape = rng.pick([[1, n], [m, 1], [1, 1], [m, n], [n], []]);
      const c = R.randomRef(rng, cShape, dtype);
      const form = rng.pick(forms);
      const expected = refOf(form, R.matmul(a, b, ta, tb), c);
      // a and b with unknown dims (or known), the bias declared with its exact shape
      const known = rng.bool();
      const av = T.tensor(dtype, known ? a.shape : [null, null]), bv = T.tensor(dtype, known ? b.shape : [null, null]);
      const cv = T.tensor(dtype, c.shape);
      const f = st.fn([av, bv, cv], symOf(form, T.matmul(av, bv, ta, tb), cv));
      const what = `${form}(matmul([${a.shape}]${ta ? 'ᵀ' : ''}, [${b.shape}]${tb ? 'ᵀ' : ''}), bias [${cShape}]) ${dtype}, ${known ? 'known' : 'unknown'} dims`;
      expectTensor(f.sync(toSt(a), toSt(b), toSt(c)) as st.Tensor, expected, what, { rtol: dtype === 'float32' ? 1e-5 : 1e-12, atol: dtype === 'float32' ? 1e-5 : 1e-12 });
    }
  });

  it('w + 2·(a·b) with w [1, n] and a, b of unknown dims broadcasts w (was an accumulate shape error)', () => {
    const w = T.tensor('float64', [1, 3]), a = T.dmatrix('a'), b = T.dmatrix('b');
    const f = st.fn([w, a, b], T.add(w, T.mul(T.matmul(a, b), 2)));
    const wr: R.Ref = { shape: [1, 3], dtype: 'float64', data: [1, -2, 0.5] };
    const ar: R.Ref = { shape: [4, 2], dtype: 'float64', data: [1, 2, 3, 4, 5, 6, 7, 8] };
    const br: R.Ref = { shape: [2, 3], dtype: 'float64', data: [1, 0, -1, 2, 1, 0] };
    const expected = R.binary('add', wr, R.binary('mul', R.matmul(ar, br), 2));
    expectTensor(f.sync(toSt(wr), toSt(ar), toSt(br)) as st.Tensor, expected, 'w [1,3] + 2·(a·b) [4,3]');
  });
});
