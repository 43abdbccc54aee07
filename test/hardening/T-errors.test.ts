// Errors of the T functions name the function the user called: its arguments are checked at the
// entry (naming the argument), an inner step's error is reported under the called function with
// the inner detail kept, aliases report their canonical name, and errors thrown by the user's own
// T calls inside a loop step reach the user unchanged.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import * as st from '../../lib/index';
import { catchError } from '../support/check';

const { T } = st;
const FILE = path.basename(__filename);

/** "T-errors.test.ts:<line>" of the caller's line. */
function here(): string {
  const frame = (new Error().stack ?? '').split('\n')[2] ?? '';
  const m = new RegExp(`${FILE.replace(/\./g, '\\.')}:(\\d+)`).exec(frame);
  assert.ok(m, `could not find ${FILE} in ${frame}`);
  return `${FILE}:${m[1]}:`;
}

function check(err: st.SymtensorError, code: string, op: string, parts: string[]): void {
  assert.equal(err.code, code, `code of: ${err.message}`);
  assert.equal(err.op, op, `op of: ${err.message}`);
  assert.ok(err.message.startsWith(`${op}: `), `message ${JSON.stringify(err.message)} should start with ${op}:`);
  for (const p of parts) assert.ok(err.message.includes(p), `message ${JSON.stringify(err.message)} should include ${JSON.stringify(p)}`);
}

describe('T errors: the value arguments', () => {
  const a = T.matrix('a');

  it('a value of a type no op takes names the function, the argument and the value', () => {
    check(catchError(() => T.abs('abc' as never)), 'ERR_ST_ARG', 'abs', ['x must be a Variable, number, boolean, Tensor or nested array', '"abc"']);
    check(catchError(() => T.matmul(a, {} as never)), 'ERR_ST_ARG', 'matmul', ['y must be', 'an object']);
    check(catchError(() => T.where(a, a, Symbol('s') as never)), 'ERR_ST_ARG', 'where', ['b must be', 'Symbol(s)']);
    check(catchError(() => T.categoricalCrossentropy(null as never, a)), 'ERR_ST_ARG', 'categoricalCrossentropy', ['yTrue must be', 'null']);
  });

  it('a BigInt is formatted, not a TypeError from JSON.stringify', () => {
    check(catchError(() => T.add(a, 10n as never)), 'ERR_ST_ARG', 'add', ['y must be', '10n']);
    check(catchError(() => T.constant(10n as never)), 'ERR_ST_ARG', 'constant', ['value must be', '10n']);
    check(catchError(() => T.sum(a, 0, 2n as never)), 'ERR_ST_ARG', 'sum', ['keepDims must be true or false', '2n']);
  });

  it('a nested array that is no tensor names the function, the argument and where it goes wrong', () => {
    // the element's position and the ragged lengths, under the function's name (not `tensor`)
    check(catchError(() => T.add(a, [['x']] as never)), 'ERR_ST_VALUE', 'add', ['y: ', 'at [0][0]', '"x"']);
    check(catchError(() => T.flatten([[1], [1, 2]])), 'ERR_ST_VALUE', 'flatten', ['x: ', 'ragged', 'length 2 at [1]']);
    check(catchError(() => T.setSubtensor(a.get([0]), [[null]] as never)), 'ERR_ST_VALUE', 'setSubtensor', ['y: ', 'at [0][0]', 'null']);
  });

  it('numbers, booleans, eager tensors and nested arrays are still constants', () => {
    const cases: [string, st.Variable, number[], string][] = [
      ['number', T.neg(2), [], 'float32'],
      ['boolean', T.logicalNot(true), [], 'bool'],
      ['nested array', T.neg([[1, 2, 3]]), [1, 3], 'float32'],
      ['typed array', T.neg(new Int32Array([1, 2])), [2], 'int32'],
      ['tensor', T.neg(st.ones([2, 2])), [2, 2], 'float32'],
    ];
    for (const [what, v, shape, dtype] of cases) assert.deepEqual([v.staticShape, v.dtype], [shape, dtype], what);
  });
});

describe('T errors: other arguments', () => {
  const a = T.matrix('a');

  it('arrays of integers, options objects and flags are checked at the call', () => {
    check(catchError(() => T.tile(a, 'x' as never)), 'ERR_ST_ARG', 'tile', ['reps must be an array of integers', '"x"']);
    check(catchError(() => T.tile(a, [1.5, 1])), 'ERR_ST_ARG', 'tile', ['[1.5,1]']);
    check(catchError(() => T.pad(a, [[1, 2], [1]] as never)), 'ERR_ST_ARG', 'pad', ['[before, after] pairs', '[[1,2],[1]]']);
    check(catchError(() => T.stridedSlice(a, [0, 0], null as never)), 'ERR_ST_ARG', 'stridedSlice', ['end must be an array of integers', 'null']);
    check(catchError(() => T.transpose(a, 'ab' as never)), 'ERR_ST_ARG', 'transpose', ['perm must be an array of axes', '"ab"']);
    check(catchError(() => T.maxPool2d(T.tensor4('x'), 3 as never)), 'ERR_ST_ARG', 'maxPool2d', ['the options must be an object', '3']);
    check(catchError(() => T.matmul(a, a, 'yes' as never)), 'ERR_ST_ARG', 'matmul', ['transposeA must be true or false', '"yes"']);
    check(catchError(() => T.split(a, [1n, 2n] as never)), 'ERR_ST_ARG', 'split', ['array of sizes', '[1n,2n]']);
  });

  it('variable constructors name themselves; names must be strings', () => {
    check(catchError(() => T.matrix({} as never)), 'ERR_ST_ARG', 'T.matrix', ['the name must be a string', 'an object']);
    check(catchError(() => T.vector('v', 'float16' as never)), 'ERR_ST_DTYPE', 'T.vector', ['unknown dtype "float16"']);
    check(catchError(() => T.scalars(null as never)), 'ERR_ST_ARG', 'T.scalars', ['expected variable names (strings)', '[null]']);
  });

  it('graph building helpers check their arguments: applyOp, loops, set/incSubtensor', () => {
    check(catchError(() => T.applyOp1(a as never, [a])), 'ERR_ST_ARG', 'applyOp1', ['op must be an Op', 'a Variable (a [?,?] float32)']);
    const op = T.neg(a).owner!.op;
    check(catchError(() => T.applyOp(op, [a, 'b' as never])), 'ERR_ST_ARG', 'applyOp', ['inputs[1] of neg must be a Variable', '"b"']);
    check(catchError(() => T.scan((x: st.Variable) => x, a as never)), 'ERR_ST_ARG', 'scan', ['the options must be an object', 'a Variable (a [?,?] float32)']);
    check(catchError(() => T.map((x: st.Variable) => x, a, undefined, { name: 5 as never })), 'ERR_ST_ARG', 'map', ['the name must be a string', '5']);
    check(catchError(() => T.incSubtensor(undefined as never, 1)), 'ERR_ST_ARG', 'incSubtensor', ['must be a subtensor', 'undefined']);
  });

  it('the gradient ops of conv2d and pooling check ranks when the node is built', () => {
    const x = T.tensor4('x'), w = T.tensor4('w');
    check(catchError(() => T.conv2dGradInput(x, w, a)), 'ERR_ST_SHAPE', 'conv2dGradInput', ['must be 4-D', '[?,?]']);
    check(catchError(() => T.conv2dGradFilter(a, x, w)), 'ERR_ST_SHAPE', 'conv2dGradFilter', ['must be 4-D', '[?,?]']);
    check(catchError(() => T.avgPool2dGrad(x, T.vector('dy'))), 'ERR_ST_SHAPE', 'avgPool2dGrad', ['must be 4-D', '[?]']);
  });
});

describe('T errors: inner steps reported under the called function', () => {
  it("an inner step's error is the called function's, with the inner detail and the user's line kept", () => {
    const A = T.tensor('float32', [3, 4], 'Amat'), B = T.tensor('float32', [5, 6], 'Bmat');
    const [at, err] = [here(), catchError(() => T.dot(A, B))];
    check(err, 'ERR_ST_SHAPE', 'dot', ['matmul: cannot multiply', 'Amat [3,4]', 'Bmat [5,6]', 'inner dimensions 4 and 5 differ', at]);
    assert.ok(err.where?.includes(at), `where ${err.where} should include ${at}`);
  });

  it('the same through a method', () => {
    const x = T.matrix('x');
    const [at, err] = [here(), catchError(() => x.std('abc' as never))];
    check(err, 'ERR_ST_ARG', 'std', ['axis must be an integer', '"abc"', at]);
  });

  it('an alias reports its canonical name', () => {
    const a = T.matrix('a');
    check(catchError(() => T.eq(a, 'q' as never)), 'ERR_ST_ARG', 'equal', ['y must be']);
    check(catchError(() => T.switch(a, a, {} as never)), 'ERR_ST_ARG', 'where', ['b must be']);
    check(catchError(() => T.lscalar(7 as never)), 'ERR_ST_ARG', 'T.iscalar', ['the name must be a string', '7']);
    check(catchError(() => T.nnet.logsoftmax('q' as never)), 'ERR_ST_ARG', 'logSoftmax', ['x must be']);
  });

  it("an error of the user's own call inside a scan step reaches the user unchanged", () => {
    const xs = T.matrix('xs');
    const [at, err] = [here(), catchError(() => T.scan((x: st.Variable) => T.add(x, T.tensor('float32', [3], 'v').reshape([2, 2])), { sequences: xs }))];
    check(err, 'ERR_ST_SHAPE', 'reshape', [at]);
    const viaMethod = catchError(() => T.map((x: st.Variable) => x.reshape('q' as never), xs));
    check(viaMethod, 'ERR_ST_ARG', 'reshape', ['expected a shape', '"q"']);
  });

  it("a user Op's own inference error keeps the Op's name (T.applyOp)", () => {
    class Picky extends st.Op {
      readonly name = 'picky';
      infer(): never {
        throw new st.SymtensorError('ERR_ST_DTYPE', 'picky', 'wants int32');
      }
      lower(): never {
        throw new Error('not lowered in this test');
      }
    }
    check(catchError(() => T.applyOp1(new Picky(), [T.matrix('m')])), 'ERR_ST_DTYPE', 'picky', ['wants int32', 'm [?,?] float32']);
  });
});
