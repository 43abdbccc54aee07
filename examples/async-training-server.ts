// Training while an HTTP server stays responsive: `await train(...)` runs each compiled step on a
// worker thread, so the event loop keeps answering requests between and during steps.  The
// example queries its own server while it trains and reports the slowest answer.
// Run: npx tsx examples/async-training-server.ts   (SERVE=1 keeps serving /status after training)
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as st from 'symtensor';

const { T } = st;
const N = 2048;
const FEATS = 256;
const HIDDEN = 256;
const STEPS = 60;

// A regression target: y = tanh(X·u), learned by a one-hidden-layer network.
const X = st.randomNormal([N, FEATS], { seed: 1 });
const Y = st.tanh(st.matmul(X, st.randomNormal([FEATS, 1], { stddev: 0.1, seed: 2 })));
const x = T.matrix('x');
const y = T.matrix('y');
const W1 = st.shared(st.randomNormal([FEATS, HIDDEN], { stddev: 0.05, seed: 3 }), 'W1');
const W2 = st.shared(st.randomNormal([HIDDEN, 1], { stddev: 0.05, seed: 4 }), 'W2');
const cost = T.mean(T.square(T.dot(T.relu(T.dot(x, W1)), W2).sub(y)));
const [g1, g2] = st.grad(cost, [W1, W2]);
const train = st.fn([x, y], cost, { updates: [[W1, W1.sub(g1.mul(0.05))], [W2, W2.sub(g2.mul(0.05))]], name: 'train' });

const status = { step: 0, cost: NaN, done: false };
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(status));
});

/** Asks the server for /status every few milliseconds until stopped; returns the latencies. */
function poll(port: number, stop: () => boolean): Promise<number[]> {
  const latencies: number[] = [];
  return new Promise((resolve) => {
    const once = () => {
      if (stop()) return resolve(latencies);
      const t0 = performance.now();
      http.get({ port, path: '/status' }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - t0);
          setTimeout(once, 5);
        });
      });
    };
    once();
  });
}

async function main() {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  console.log(`serving training status on http://127.0.0.1:${port}/status`);
  const polling = poll(port, () => status.done);
  const t0 = performance.now();
  for (let i = 1; i <= STEPS; i++) {
    status.cost = Number(((await train(X, Y)) as st.Tensor).item());
    status.step = i;
    if (i % 20 === 0) console.log(`step ${i}: cost ${status.cost.toFixed(5)}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  status.done = true;
  const latencies = await polling;
  const slowest = Math.max(...latencies);
  console.log(`trained ${STEPS} steps in ${seconds.toFixed(1)} s; the server answered ${latencies.length} requests meanwhile, ` +
    `slowest ${slowest.toFixed(1)} ms`);
  if (process.env.SERVE === '1') return; // keep serving
  server.close();
  if (latencies.length < 10) throw new Error('the server answered too few requests while training');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
