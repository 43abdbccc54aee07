// Looking at compiled functions: debugprint, toDot, profiles, SYMTENSOR_DEBUG=3, and the rewrite
// registry (every rewrite is covered by these tests and can be excluded).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as st from '../../lib/index';
import { PHASES, allRewrites } from '../../lib/compile/rewrites';
import { T, assertClose, fired, randomTensor, run } from './helpers';

const repoRoot = path.join(__dirname, '..', '..');

function mlp() {
  const x = T.tensor('float32', [null, 4], 'x'), w = T.tensor('float32', [4, 3], 'w');
  const y = T.tanh(T.dot(x, w).mul(2).add(1));
  return { x, w, f: st.fn([x, w], [T.softmax(y), y.sum()], { name: 'mlp' }) };
}

describe('compile: debugprint', () => {
  it('one line per input, node and output, with shapes and dtypes', () => {
    const { f } = mlp();
    const text = st.debugprint(f, { print: false });
    const lines = text.split('\n');
    const nodes = f.graph.nodes();
    const nodeLines = lines.filter((l) => l.includes(' <- '));
    assert.equal(nodeLines.length, nodes.length, text);
    assert.equal(lines.filter((l) => l.startsWith('output ')).length, 2, text);
    assert.ok(lines.some((l) => l.startsWith('x = x [?,4] float32')), text);
    assert.ok(lines.some((l) => l.startsWith('w = w [4,3] float32')), text);
    nodes.forEach((n, i) => {
      const l = nodeLines[i];
      assert.match(l, /^#\d+ = \S+.* \[[0-9?,]*\] (float32|float64|int32|bool) <- /, l);
      assert.ok(l.includes(n.op.name === 'fused' ? 'fused{' : n.op.name), `${l} names ${n.op.name}`);
    });
    assert.ok(nodeLines.some((l) => l.includes('softmax') && l.includes('[?,3] float32')), text);
    assert.ok(nodeLines.some((l) => l.includes('sum') && l.includes(' [] float32')), text);
  });

  it('prints to the console unless print: false', () => {
    const { f } = mlp();
    const orig = console.log;
    const seen: unknown[] = [];
    console.log = (...a: unknown[]) => void seen.push(a);
    try {
      st.debugprint(f, { print: false });
      assert.equal(seen.length, 0);
      const text = st.debugprint(f);
      assert.deepEqual(seen, [[text]]);
    } finally {
      console.log = orig;
    }
  });
});

describe('compile: toDot', () => {
  it('valid-looking Graphviz: digraph, declared nodes, one edge per node input and per output', () => {
    const { f } = mlp();
    const dot = st.toDot(f);
    assert.match(dot, /^digraph "mlp" \{\n/);
    assert.ok(dot.trimEnd().endsWith('}'));
    assert.equal((dot.match(/\{/g) ?? []).length, (dot.match(/\}/g) ?? []).length, 'braces balance');
    const edges = dot.split('\n').filter((l) => / -> /.test(l));
    const nIn = f.graph.nodes().reduce((s, n) => s + n.inputs.length, 0);
    assert.equal(edges.length, nIn + f.graph.outputs.length, dot);
    const declared = new Set(dot.split('\n').map((l) => /^\s+(\w+) \[/.exec(l)?.[1]).filter(Boolean));
    for (const e of edges) {
      const m = /^\s+(\w+) -> (\w+)/.exec(e);
      assert.ok(m, e);
      assert.ok(declared.has(m[1]) && declared.has(m[2]), `edge ${e} uses declared nodes`);
    }
    assert.ok(dot.includes('[4,3] float32'), dot);
  });

  it('quotes in names and labels are escaped', () => {
    const x = T.vector('x"q');
    const f = st.fn([x], T.exp(x), { name: 'a"b' });
    const dot = st.toDot(f);
    assert.ok(dot.startsWith(`digraph "a'b" {`), dot);
    assert.ok(dot.includes('label="x\\"q'), dot);
  });
});

describe('compile: profile', () => {
  it('one entry per instruction, calls = number of calls, ms >= 0', async () => {
    const x = T.matrix('x');
    const f = st.fn([x], T.exp(x).sum(1).mul(2), { profile: true });
    assert.deepEqual(f.profile(), [], 'nothing before the first call');
    const xv = randomTensor([8, 16], 1);
    for (let i = 0; i < 3; i++) run(f, xv);
    await f(xv);
    const p = f.profile();
    const instrs = f.program()!.instrs;
    assert.equal(p.length, instrs.length);
    p.forEach((e, i) => {
      assert.equal(e.index, i);
      assert.equal(e.op, instrs[i].label);
      assert.equal(e.calls, 4, `${e.op} calls`);
      assert.ok(e.ms >= 0 && Number.isFinite(e.ms), `${e.op} ms ${e.ms}`);
    });
  });

  it('profiles the program of the most recent input shapes', () => {
    const v = T.vector('v');
    const f = st.fn([v], T.tanh(v.mul(2).add(1)), { profile: true });
    run(f, [1, 2, 3]);
    run(f, [1, 2, 3]);
    run(f, [1, 2]);
    const p = f.profile();
    assert.equal(p.length, 1);
    assert.equal(p[0].calls, 1);
    run(f, [4, 5, 6]);
    assert.equal(f.profile()[0].calls, 3);
  });
});

describe('compile: SYMTENSOR_DEBUG=3', () => {
  const snippet = `
    const st = require('./lib/index');
    const T = st.T;
    const x = T.matrix('x');
    const f = st.fn([x], T.log(T.softmax(x.mul(1))).add(T.neg(T.neg(x))).mul(3));
    f.sync([[1, 2], [3, 4]]);
    console.log(JSON.stringify(f.graph.history));
  `;
  const child = (env: Record<string, string | undefined>) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', snippet], { cwd: repoRoot, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    const history = JSON.parse(r.stdout.trim().split('\n').pop()!) as { rewrite: string; node: string }[];
    return { stderr: r.stderr, history };
  };

  it('prints every rewrite as it is applied', () => {
    const { stderr, history } = child({ SYMTENSOR_DEBUG: '3' });
    const lines = stderr.split('\n').filter((l) => l.startsWith('[symtensor] rewrite '));
    assert.equal(lines.length, history.length, stderr);
    history.forEach((h, i) => assert.equal(lines[i], `[symtensor] rewrite ${h.rewrite}: ${h.node}`));
    for (const name of ['mulIdentity', 'negNeg', 'logSoftmax', 'elementwiseFusion']) assert.ok(lines.some((l) => l.includes(` ${name}: `)), `${name} in\n${stderr}`);
  });

  it('prints nothing without it', () => {
    const env = { ...process.env };
    delete env.SYMTENSOR_DEBUG;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', snippet], { cwd: repoRoot, env, encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stderr.includes('[symtensor]'), r.stderr);
  });
});

describe('compile: rewrite registry', () => {
  // Each of these has positive and negative tests in this folder.
  const covered: Record<string, string> = {
    recognizeSigmoid: 'stabilize', recognizeSoftplus: 'stabilize', recognizeSoftmax: 'stabilize',
    merge: 'canonicalize,specialize,fusion',
    constantFolding: 'canonicalize',
    mulIdentity: 'canonicalize',
    addIdentity: 'canonicalize',
    subIdentity: 'canonicalize',
    divIdentity: 'canonicalize',
    negNeg: 'canonicalize',
    logExp: 'canonicalize',
    subSelf: 'canonicalize',
    castSame: 'canonicalize',
    removeNoopReshape: 'canonicalize',
    reshapeReshape: 'canonicalize',
    removeStopGradient: 'canonicalize',
    logSoftmax: 'stabilize',
    logSigmoid: 'stabilize',
    log1mSigmoid: 'stabilize',
    log1p: 'stabilize',
    softmaxCrossEntropy: 'stabilize',
    gemmEpilogue: 'specialize',
    convEpilogue: 'specialize',
    gemmAccumulate: 'specialize',
    maxPoolGradRelu: 'specialize',
    elementwiseFusion: 'fusion',
  };

  it('every listed rewrite is covered by these tests, in its phases', () => {
    const all = allRewrites();
    const names = all.map((r) => r.name);
    assert.equal(new Set(names).size, names.length, `duplicate rewrite names: ${names}`);
    assert.deepEqual(names.slice().sort(), Object.keys(covered).sort(), 'listed rewrites vs the ones tested here');
    assert.deepEqual(PHASES.map((p) => p.phase), ['canonicalize', 'stabilize', 'specialize', 'fusion']);
    for (const r of all) {
      const phases = PHASES.filter((p) => p.rewrites.includes(r)).map((p) => p.phase);
      assert.equal(phases.join(','), covered[r.name], `${r.name} phases`);
    }
  });

  it('excluding all rewrites gives the same numbers as the optimized pipeline', () => {
    const x = T.matrix('x'), y = T.matrix('y');
    const z = T.tanh(x.mul(1).add(-0)).sub(T.neg(T.neg(y)).div(1));
    const loss = T.neg(T.sum(T.mul(y, T.log(T.softmax(z))), -1)).mean();
    const outs = [loss, T.exp(z).add(T.exp(z)), T.reshape(T.reshape(z, [-1]), [-1, 3]), T.log(T.exp(z)).sub(z.sub(z))];
    const all = Object.keys(covered).filter((n) => n !== 'gemmEpilogue' && n !== 'gemmAccumulate');
    const f = st.fn([x, y], outs);
    const g = st.fn([x, y], outs, { excludeRewrites: all });
    assert.equal(g.graph.history.length, 0, 'nothing fires when everything is excluded');
    const expected = ['merge', 'mulIdentity', 'addIdentity', 'divIdentity', 'negNeg', 'logExp', 'subSelf', 'reshapeReshape', 'logSoftmax', 'softmaxCrossEntropy', 'elementwiseFusion'];
    for (const name of expected) assert.ok(fired(f, name) > 0, `${name} fired`);
    assert.ok(f.graph.nodes().length < g.graph.nodes().length / 2, `${f.graph.nodes().length} vs ${g.graph.nodes().length} nodes`);
    const xv = randomTensor([4, 3], 2), yv = st.softmax(randomTensor([4, 3], 3));
    const a = run(f, xv, yv), b = run(g, xv, yv);
    a.forEach((t, i) => assertClose(t, b[i], `output ${i}`, 1e-5, 1e-6));
  });
});
