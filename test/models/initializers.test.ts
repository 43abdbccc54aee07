// Initializers against Keras's formulas: fans, limits and standard deviations computed here from
// the published rules, sample statistics on large draws, exact orthogonality, determinism.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import {
  GlorotUniform, HeNormal, Initializer, VarianceScaling, computeFans, getInitializer, initializers,
} from '../../lib/models/initializers';
import { nextSeed, setRandomSeed } from '../../lib/models/seed';
import { expectError } from '../support/check';
import { f64 as values } from '../support/fd';
import { size as prod } from '../support/models';
import { erf } from '../support/erf';


function moments(v: Float64Array): { mean: number; std: number; min: number; max: number } {
  let s = 0, min = Infinity, max = -Infinity;
  for (const x of v) (s += x), (min = Math.min(min, x)), (max = Math.max(max, x));
  const mean = s / v.length;
  let q = 0;
  for (const x of v) q += (x - mean) ** 2;
  return { mean, std: Math.sqrt(q / v.length), min, max };
}

/** Standard normal CDF. */
const Phi = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));
const phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
/** Variance of a standard normal truncated to [-2, 2]. */
const TRUNC_VAR = 1 - (2 * 2 * phi(2)) / (2 * Phi(2) - 1);

/** Fans by Keras's rules, written out per case. */
function fansOf(shape: number[]): [number, number] {
  if (shape.length === 2) return [shape[0], shape[1]];
  const rf = prod(shape.slice(0, -2));
  return [shape[shape.length - 2] * rf, shape[shape.length - 1] * rf];
}

describe('models: initializers', () => {
  it('computeFans follows Keras: dense, conv1d, conv2d, conv3d kernels, vectors and scalars', () => {
    assert.deepEqual(computeFans([10, 20]), { fanIn: 10, fanOut: 20 });
    assert.deepEqual(computeFans([5, 8, 16]), { fanIn: 5 * 8, fanOut: 5 * 16 });
    assert.deepEqual(computeFans([3, 3, 16, 32]), { fanIn: 9 * 16, fanOut: 9 * 32 });
    assert.deepEqual(computeFans([2, 3, 4, 5, 6]), { fanIn: 24 * 5, fanOut: 24 * 6 });
    assert.deepEqual(computeFans([7]), { fanIn: 7, fanOut: 7 });
    assert.deepEqual(computeFans([]), { fanIn: 1, fanOut: 1 });
  });

  describe('uniform variance scaling: limit sqrt(3 scale / n)', () => {
    const cases: [string, Initializer, number[], (fi: number, fo: number) => number][] = [
      ['glorotUniform', initializers.glorotUniform({ seed: 1 }), [300, 200], (fi, fo) => 1 / ((fi + fo) / 2)],
      ['heUniform', initializers.heUniform({ seed: 2 }), [5, 5, 40, 60], (fi) => 2 / fi],
      ['lecunUniform', initializers.lecunUniform({ seed: 3 }), [60, 40, 25], (fi) => 1 / fi],
      ['varianceScaling fanOut', initializers.varianceScaling({ scale: 3, mode: 'fanOut', distribution: 'uniform', seed: 4 }), [250, 240], (_, fo) => 3 / fo],
    ];
    for (const [name, init, shape, scaleOverN] of cases) {
      it(name, () => {
        const [fi, fo] = fansOf(shape);
        const limit = Math.sqrt(3 * scaleOverN(fi, fo));
        const t = init.call(shape, 'float64');
        assert.deepEqual(t.shape, shape);
        assert.equal(t.dtype, 'float64');
        const v = values(t);
        for (const x of v) assert.ok(x >= -limit && x < limit, `${x} outside [-${limit}, ${limit})`);
        const m = moments(v);
        // the extremes come within 0.2% of the limits in 48000+ draws
        assert.ok(m.min < -0.998 * limit && m.max > 0.998 * limit, `range [${m.min}, ${m.max}] vs limit ${limit}`);
        assert.ok(Math.abs(m.mean) < 6 * limit / Math.sqrt(3 * v.length), `mean ${m.mean}`);
        const std = limit / Math.sqrt(3);
        assert.ok(Math.abs(m.std / std - 1) < 0.02, `std ${m.std}, expected ${std}`);
      });
    }
  });

  describe('normal variance scaling: stddev sqrt(scale / n), truncated at 2 stddev', () => {
    const cases: [string, Initializer, number[], (fi: number, fo: number) => number, boolean][] = [
      ['glorotNormal', initializers.glorotNormal({ seed: 5 }), [300, 200], (fi, fo) => 1 / ((fi + fo) / 2), true],
      ['heNormal', initializers.heNormal({ seed: 6 }), [3, 3, 80, 90], (fi) => 2 / fi, true],
      ['lecunNormal', initializers.lecunNormal({ seed: 7 }), [250, 240], (fi) => 1 / fi, true],
      ['varianceScaling fan_avg truncated_normal', initializers.varianceScaling({ scale: 0.5, mode: 'fan_avg', distribution: 'truncated_normal', seed: 8 }), [200, 300], (fi, fo) => 0.5 / ((fi + fo) / 2), true],
      ['varianceScaling untruncatedNormal', initializers.varianceScaling({ scale: 2, mode: 'fanOut', distribution: 'untruncatedNormal', seed: 9 }), [240, 250], (_, fo) => 2 / fo, false],
    ];
    for (const [name, init, shape, scaleOverN, truncated] of cases) {
      it(name, () => {
        const [fi, fo] = fansOf(shape);
        // Keras widens the truncated normal by 1 / 0.87962566103423978 (the truncated stddev)
        const sigma = truncated ? Math.sqrt(scaleOverN(fi, fo)) / 0.87962566103423978 : Math.sqrt(scaleOverN(fi, fo));
        const v = values(init.call(shape, 'float64'));
        assert.equal(v.length, prod(shape));
        const m = moments(v);
        const expectedStd = truncated ? sigma * Math.sqrt(TRUNC_VAR) : sigma;
        assert.ok(Math.abs(m.std / expectedStd - 1) < 0.015, `std ${m.std}, expected ${expectedStd}`);
        assert.ok(Math.abs(m.mean) < 6 * expectedStd / Math.sqrt(v.length), `mean ${m.mean}`);
        let beyond2 = 0, beyond15 = 0, near2 = 0;
        for (const x of v) {
          const z = Math.abs(x) / sigma;
          if (z > 2) beyond2++;
          if (z > 1.5) beyond15++;
          if (z > 1.99 && z <= 2) near2++;
        }
        if (truncated) {
          assert.equal(beyond2, 0, 'values beyond 2 stddev');
          // redrawn, not clipped: the tail between 1.5 and 2 has its normal share, nothing piles up at 2
          const share = (2 * (Phi(2) - Phi(1.5))) / (2 * Phi(2) - 1);
          assert.ok(Math.abs(beyond15 / v.length - share) < 0.01, `share beyond 1.5 stddev ${beyond15 / v.length}, expected ${share}`);
          assert.ok(near2 / v.length < 0.004, `share in (1.99, 2] stddev: ${near2 / v.length}`);
        } else {
          const share = 2 * (1 - Phi(2));
          assert.ok(Math.abs(beyond2 / v.length - share) < 0.006, `share beyond 2 stddev ${beyond2 / v.length}, expected ${share}`);
        }
      });
    }
  });

  it('randomNormal, randomUniform and truncatedNormal: Keras defaults and options', () => {
    let m = moments(values(initializers.randomNormal({ seed: 1 }).call([60000], 'float64')));
    assert.ok(Math.abs(m.mean) < 6 * 0.05 / Math.sqrt(60000) && Math.abs(m.std / 0.05 - 1) < 0.015, `randomNormal defaults ${m.mean} ${m.std}`);
    m = moments(values(initializers.randomNormal({ mean: 3, stddev: 2, seed: 2 }).call([60000], 'float64')));
    assert.ok(Math.abs(m.mean - 3) < 6 * 2 / Math.sqrt(60000) && Math.abs(m.std / 2 - 1) < 0.015, `randomNormal(3, 2) ${m.mean} ${m.std}`);

    const u = values(initializers.randomUniform({ seed: 3 }).call([60000], 'float64'));
    m = moments(u);
    assert.ok(u.every((x) => x >= -0.05 && x < 0.05) && m.min < -0.0499 && m.max > 0.0499, `randomUniform defaults [${m.min}, ${m.max}]`);
    const u2 = values(initializers.randomUniform({ minval: 2, maxval: 5, seed: 4 }).call([60000], 'float64'));
    m = moments(u2);
    assert.ok(u2.every((x) => x >= 2 && x < 5) && Math.abs(m.mean - 3.5) < 0.02, `randomUniform(2, 5) mean ${m.mean}`);

    const tn = values(initializers.truncatedNormal({ mean: 1, stddev: 2, seed: 5 }).call([60000], 'float64'));
    m = moments(tn);
    assert.ok(tn.every((x) => Math.abs(x - 1) <= 4), 'truncatedNormal beyond 2 stddev');
    assert.ok(Math.abs(m.mean - 1) < 0.05 && Math.abs(m.std / (2 * Math.sqrt(TRUNC_VAR)) - 1) < 0.015, `truncatedNormal(1, 2) ${m.mean} ${m.std}`);
    const tnDefault = moments(values(initializers.truncatedNormal({ seed: 6 }).call([60000], 'float64')));
    assert.ok(tnDefault.max <= 0.1 && tnDefault.min >= -0.1 && Math.abs(tnDefault.std / (0.05 * Math.sqrt(TRUNC_VAR)) - 1) < 0.015, `truncatedNormal defaults ${tnDefault.std}`);
  });

  it('float32 results stay within the bounds up to float32 rounding', () => {
    const limit = Math.sqrt(6 / (100 + 50));
    const t = initializers.glorotUniform({ seed: 11 }).call([100, 50]);
    assert.equal(t.dtype, 'float32');
    assert.ok(values(t).every((x) => Math.abs(x) <= limit * (1 + 2 ** -23)));
    const sigma = Math.sqrt(2 / 100) / 0.87962566103423978;
    const h = initializers.heNormal({ seed: 12 }).call([100, 50]);
    assert.equal(h.dtype, 'float32');
    assert.ok(values(h).every((x) => Math.abs(x) <= 2 * sigma * (1 + 2 ** -23)));
  });

  describe('orthogonal', () => {
    /** max |G - gain²·I| for the Gram matrix of the rows (byRows) or columns of an r×c matrix. */
    function gramError(v: Float64Array, r: number, c: number, byRows: boolean, gain: number): number {
      const k = byRows ? r : c, len = byRows ? c : r;
      const at = (vec: number, i: number) => (byRows ? v[vec * c + i] : v[i * c + vec]);
      let worst = 0;
      for (let a = 0; a < k; a++)
        for (let b = 0; b < k; b++) {
          let s = 0;
          for (let i = 0; i < len; i++) s += at(a, i) * at(b, i);
          worst = Math.max(worst, Math.abs(s - (a === b ? gain * gain : 0)));
        }
      return worst;
    }
    const cases: [number[], number][] = [[[6, 6], 1], [[40, 40], 1], [[10, 4], 1], [[4, 10], 1], [[3, 3, 4, 5], 1], [[2, 9], 2], [[30, 7], 0.5]];
    for (const [shape, gain] of cases) {
      it(`${JSON.stringify(shape)} with gain ${gain}`, () => {
        const t = initializers.orthogonal({ gain, seed: 21 }).call(shape);
        assert.deepEqual(t.shape, shape);
        const r = prod(shape.slice(0, -1)), c = shape[shape.length - 1];
        const err = gramError(values(t), r, c, r < c, gain);
        assert.ok(err < 1e-5 * gain * gain, `Gram error ${err}`);
      });
    }
    it('a square result is orthogonal both ways (QᵀQ = QQᵀ = I)', () => {
      const v = values(initializers.orthogonal({ seed: 3 }).call([12, 12], 'float64'));
      assert.ok(gramError(v, 12, 12, true, 1) < 1e-12 && gramError(v, 12, 12, false, 1) < 1e-12);
    });
    it('needs rank 2 or more', () => {
      expectError(() => initializers.orthogonal().call([5]), 'ERR_ST_SHAPE', ['Orthogonal', '[5]', 'rank 2']);
    });
  });

  it('identity, constant, zeros and ones are exact', () => {
    const id = values(initializers.identity({ gain: 1.5 }).call([3, 5], 'float64'));
    const idExpected: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) idExpected.push(i === j ? 1.5 : 0);
    assert.deepEqual(Array.from(id), idExpected);
    assert.deepEqual(Array.from(values(initializers.identity().call([3, 2]))), [1, 0, 0, 1, 0, 0]);
    expectError(() => initializers.identity().call([2, 2, 2]), 'ERR_ST_SHAPE', ['Identity', '2-D', '[2,2,2]']);

    const c = initializers.constant({ value: 0.25 }).call([2, 3], 'float64');
    assert.deepEqual(c.shape, [2, 3]);
    assert.deepEqual(Array.from(values(c)), [0.25, 0.25, 0.25, 0.25, 0.25, 0.25]);
    assert.deepEqual(Array.from(values(initializers.constant().call([2]))), [0, 0]);
    const z = initializers.zeros().call([2, 2], 'int32');
    assert.equal(z.dtype, 'int32');
    assert.deepEqual(Array.from(values(z)), [0, 0, 0, 0]);
    assert.deepEqual(Array.from(values(initializers.ones().call([3]))), [1, 1, 1]);
  });

  describe('determinism', () => {
    const makers: [string, () => Initializer][] = [
      ['glorotUniform', () => initializers.glorotUniform({ seed: 42 })],
      ['heNormal', () => initializers.heNormal({ seed: 42 })],
      ['randomNormal', () => initializers.randomNormal({ seed: 42 })],
      ['randomUniform', () => initializers.randomUniform({ seed: 42 })],
      ['truncatedNormal', () => initializers.truncatedNormal({ seed: 42 })],
      ['orthogonal', () => initializers.orthogonal({ seed: 42 })],
    ];
    for (const [name, make] of makers) {
      it(`${name}: a seed gives the same tensor on every call and instance, whatever the global seed`, () => {
        const init = make();
        const a = values(init.call([20, 30]));
        setRandomSeed(1);
        const b = values(init.call([20, 30]));
        setRandomSeed(2);
        const c = values(make().call([20, 30]));
        assert.deepEqual(b, a);
        assert.deepEqual(c, a);
        const other = values(getInitializer({ className: init.className, config: { ...init.getConfig().config, seed: 43 } }).call([20, 30]));
        assert.notDeepEqual(other, a);
      });
    }

    it('without a seed each call differs, and setRandomSeed replays the sequence', () => {
      const draw = () => [values(initializers.glorotUniform().call([10, 10])), values(initializers.truncatedNormal().call([50])), values(initializers.orthogonal().call([4, 4]))];
      setRandomSeed(7);
      const first = draw(), second = draw();
      setRandomSeed(7);
      const again = draw();
      assert.deepEqual(again, first);
      for (let i = 0; i < first.length; i++) assert.notDeepEqual(second[i], first[i]);
      setRandomSeed(8);
      assert.notDeepEqual(draw()[0], first[0]);
    });

    it('nextSeed: integers in [0, 2^32), replayed by setRandomSeed, different for different seeds', () => {
      setRandomSeed(123);
      const a = Array.from({ length: 50 }, () => nextSeed());
      setRandomSeed(123);
      const b = Array.from({ length: 50 }, () => nextSeed());
      setRandomSeed(124);
      const c = Array.from({ length: 50 }, () => nextSeed());
      assert.deepEqual(b, a);
      assert.ok(a.every((s) => Number.isInteger(s) && s >= 0 && s < 2 ** 32));
      assert.equal(new Set(a).size, 50);
      assert.equal(a.filter((s, i) => s === c[i]).length, 0);
      // seeds beyond 32 bits still count in full
      setRandomSeed(2 ** 40 + 5);
      const d = nextSeed();
      setRandomSeed(5);
      assert.notEqual(nextSeed(), d);
      expectError(() => setRandomSeed(-1), 'ERR_ST_ARG', ['setRandomSeed', '-1']);
      expectError(() => setRandomSeed(1.5), 'ERR_ST_ARG', ['setRandomSeed', '1.5']);
    });
  });

  describe('getInitializer and configs', () => {
    it('resolves camelCase, snake_case and class names', () => {
      for (const name of ['glorotUniform', 'glorot_uniform', 'GlorotUniform']) assert.ok(getInitializer(name) instanceof GlorotUniform, name);
      assert.ok(getInitializer('he_normal') instanceof HeNormal);
      assert.equal(getInitializer('truncated_normal').className, 'TruncatedNormal');
      assert.equal(getInitializer('variance_scaling').className, 'VarianceScaling');
      const own = initializers.zeros();
      assert.equal(getInitializer(own), own);
    });

    it('getConfig round-trips, Keras snake_case configs included', () => {
      const vs = initializers.varianceScaling({ scale: 2, mode: 'fan_out', distribution: 'untruncated_normal', seed: 3 });
      assert.deepEqual(vs.getConfig(), { className: 'VarianceScaling', config: { scale: 2, mode: 'fanOut', distribution: 'untruncatedNormal', seed: 3 } });
      const back = getInitializer(vs.getConfig());
      assert.ok(back instanceof VarianceScaling);
      assert.deepEqual(values(back.call([8, 8])), values(vs.call([8, 8])));
      const keras = getInitializer({ class_name: 'VarianceScaling', config: { scale: 2, mode: 'fan_out', distribution: 'untruncated_normal', seed: 3 } } as never);
      assert.deepEqual(values(keras.call([8, 8])), values(vs.call([8, 8])));
      assert.deepEqual(initializers.glorotNormal({ seed: 9 }).getConfig(), { className: 'GlorotNormal', config: { seed: 9 } });
      assert.deepEqual(initializers.randomUniform().getConfig(), { className: 'RandomUniform', config: { minval: -0.05, maxval: 0.05, seed: null } });
      const rn = getInitializer({ className: 'RandomNormal', config: { mean: 1, stddev: 0.5, seed: 4 } });
      assert.deepEqual(rn.getConfig(), { className: 'RandomNormal', config: { mean: 1, stddev: 0.5, seed: 4 } });
      assert.deepEqual(getInitializer({ className: 'Constant', config: { value: 3 } }).getConfig(), { className: 'Constant', config: { value: 3 } });
    });

    it('bad names, options and dtypes are errors that say what is valid', () => {
      expectError(() => getInitializer('glorotUnifrom'), 'ERR_ST_ARG', ['getInitializer', '"glorotUnifrom"', 'glorotUniform', 'heNormal', 'orthogonal']);
      expectError(() => getInitializer({ className: 'Nope', config: {} }), 'ERR_ST_ARG', ['"Nope"', 'valid names']);
      expectError(() => getInitializer(3 as never), 'ERR_ST_ARG', ['getInitializer', '3']);
      expectError(() => initializers.randomNormal({ stdev: 1 } as never), 'ERR_ST_ARG', ['RandomNormal', '"stdev"', 'stddev']);
      expectError(() => initializers.varianceScaling({ mode: 'fanSum' }), 'ERR_ST_ARG', ['VarianceScaling', 'fanSum', 'fanAvg']);
      expectError(() => initializers.varianceScaling({ distribution: 'cauchy' }), 'ERR_ST_ARG', ['VarianceScaling', 'cauchy', 'truncatedNormal']);
      expectError(() => initializers.varianceScaling({ scale: 0 }), 'ERR_ST_ARG', ['VarianceScaling', 'scale', 'positive']);
      expectError(() => initializers.heUniform({ seed: -3 }), 'ERR_ST_ARG', ['HeUniform', 'seed', '-3']);
      expectError(() => initializers.randomUniform({ minval: 1, maxval: 0 }), 'ERR_ST_ARG', ['RandomUniform', 'minval']);
      expectError(() => initializers.glorotUniform().call([3, 4], 'int32'), 'ERR_ST_DTYPE', ['GlorotUniform', 'int32']);
      expectError(() => initializers.ones().call([2, -1]), 'ERR_ST_SHAPE', ['Ones', '-1']);
    });
  });
});
