// Jacobians and Hessians are graphs too: st.jacobian and st.hessian build them from st.grad, and
// st.fn compiles them like any other expression.  Here they drive Newton's method on the
// Rosenbrock function, and each is compared with its closed form.
// Run: npx tsx examples/hessian-jacobian.ts
import * as st from 'symtensor';

const { T } = st;
const N = 3;
const x = T.tensor('float64', [N], 'x');

// A vector function and its Jacobian: g(x) = [x0·x1, sin(x2), x0²]
const g = T.stack([x.slice([0], [1]).mul(x.slice([1], [1])), T.sin(x.slice([2], [1])), x.slice([0], [1]).square()], 0).reshape([3]);
const jac = st.fn([x], st.jacobian(g, x), { name: 'jacobian' });

/** dg_i/dx_j written out by hand. */
function jacobianByHand([x0, x1, x2]: number[]): number[][] {
  return [[x1, x0, 0], [0, 0, Math.cos(x2)], [2 * x0, 0, 0]];
}

// Rosenbrock: f(x) = Σ (1 − x_i)² + 100 (x_{i+1} − x_i²)², minimum 0 at x = [1, 1, 1]
const head = x.slice([0], [N - 1]);
const tail = x.slice([1], [N - 1]);
const f = T.sum(T.square(T.sub(1, head))).add(T.sum(T.square(tail.sub(head.square()))).mul(100));
const step = st.fn([x], [f, st.grad(f, x), st.hessian(f, x)], { name: 'newton' });

/** The Rosenbrock Hessian, term by term. */
function hessianByHand(v: number[]): number[][] {
  const h = v.map(() => v.map(() => 0));
  for (let i = 0; i < N - 1; i++) {
    h[i][i] += 2 - 400 * (v[i + 1] - v[i] * v[i]) + 800 * v[i] * v[i];
    h[i][i + 1] += -400 * v[i];
    h[i + 1][i] += -400 * v[i];
    h[i + 1][i + 1] += 200;
  }
  return h;
}

/** Solves A d = b by Gaussian elimination with partial pivoting (A is small and dense). */
function solve(A: number[][], b: number[]): number[] {
  const m = A.map((row, i) => [...row, b[i]]);
  const n = b.length;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = c + 1; r < n; r++) {
      const k = m[r][c] / m[c][c];
      for (let j = c; j <= n; j++) m[r][j] -= k * m[c][j];
    }
  }
  const d = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let j = r + 1; j < n; j++) s -= m[r][j] * d[j];
    d[r] = s / m[r][r];
  }
  return d;
}

const maxDiff = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i][j]))));

const at = [0.5, -0.3, 2];
const J = (jac.sync(st.tensor(at, 'float64')) as st.Tensor).arraySync() as number[][];
console.log(`Jacobian of g at [${at}]: largest difference from the closed form ${maxDiff(J, jacobianByHand(at)).toExponential(2)}`);

let v = [-1.2, 1, 1.5];
for (let it = 0; it < 20; it++) {
  const [fv, gv, hv] = step.sync(st.tensor(v, 'float64')) as st.Tensor[];
  const H = hv.arraySync() as number[][];
  const diff = maxDiff(H, hessianByHand(v));
  if (diff > 1e-6 * (1 + Math.abs(H[0][0]))) throw new Error(`Hessian differs from the closed form by ${diff}`);
  const grad = Array.from(gv.dataSync());
  console.log(`newton ${String(it).padStart(2)}: f = ${Number(fv.item()).toExponential(3)}, |grad| = ${Math.hypot(...grad).toExponential(2)}`);
  if (Math.hypot(...grad) < 1e-10) break;
  const d = solve(H, grad);
  v = v.map((vi, i) => vi - d[i]);
}
console.log(`minimum found at [${v.map((t) => t.toFixed(6)).join(', ')}] (expected [1, 1, 1])`);
if (v.some((t) => Math.abs(t - 1) > 1e-6)) process.exit(1);
