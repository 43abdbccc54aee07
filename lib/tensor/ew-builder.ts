// The one builder of ELEMWISE bytecode (layout in native/ops.def).  Eager ops, elementwise fusion,
// the GEMM epilogue's fallback and lowering's copies all write their programs through it.  Callers
// hold registers as handles; numbers are given only when the program is built (inputs first, then
// each op's destination, in the order the ops were added), so no caller writes a register number.
import { DType, DTYPE_CODE } from '../dtype';
import { SymtensorError } from '../errors';
import { EW, EW_INFO, EwCode } from '../ops.generated';

/** A numbered micro-op program: registers 0..nIn-1 are the inputs, then each op's destination. */
export interface EwProgram {
  nIn: number;
  /** [micro-op, dst, a, b, c]; argument slots past the op's arity are 0. */
  ops: [number, number, number, number, number][];
  /** [p0, p1] of each op. */
  params: [number, number][];
  /** Registers the outputs are read from, in output order. */
  outs: number[];
}

/** The ELEMWISE attributes of a program. */
export interface EwAttrs {
  iattr: number[];
  fattr: number[];
}

/** A register of a program being built: an input or the result of an op. */
export class EwReg {
  /** @internal */
  constructor(
    readonly owner: EwBuilder,
    readonly kind: 'input' | 'op',
    readonly index: number,
  ) {}
}

interface PendingOp {
  code: number;
  args: EwReg[];
  p0: number;
  p1: number;
}

function internal(msg: string): SymtensorError {
  return new SymtensorError('ERR_ST_INTERNAL', 'elemwise', msg);
}

/**
 * Builds one ELEMWISE program.
 * @example
 *   const b = new EwBuilder('float32');
 *   const x = b.input(), y = b.input();
 *   b.output(b.op(EW.ADD, [b.op(EW.MUL, [x, b.constant(2)]), y]));   // 2x + y
 *   const { iattr, fattr } = b.build();
 */
export class EwBuilder {
  private nIn = 0;
  private readonly ops: PendingOp[] = [];
  private readonly outs: EwReg[] = [];

  /** ctype: the dtype the program computes in (bool computes as int32). */
  constructor(readonly ctype: DType) {}

  /** The next input (inputs are numbered in the order they are asked for). */
  input(): EwReg {
    return new EwReg(this, 'input', this.nIn++);
  }

  /** One micro-op over registers of this builder; p0/p1 are its float parameters. */
  op(code: EwCode | number, args: EwReg[], p0 = 0, p1 = 0): EwReg {
    const info = EW_INFO[code];
    if (!info) throw internal(`unknown micro-op ${code}`);
    if (args.length !== info.arity) throw internal(`${info.name} takes ${info.arity} registers, got ${args.length}`);
    for (const a of args) if (a.owner !== this) throw internal(`${info.name}: a register of another program`);
    this.ops.push({ code, args: args.slice(), p0, p1 });
    return new EwReg(this, 'op', this.ops.length - 1);
  }

  /** A register holding the number v. */
  constant(v: number): EwReg {
    return this.op(EW.CONST, [], v);
  }

  /** Appends a built program with its inputs read from `inputs`; returns its output registers. */
  inline(prog: EwProgram, inputs: EwReg[]): EwReg[] {
    if (inputs.length !== prog.nIn) throw internal(`inlining a program of ${prog.nIn} inputs with ${inputs.length} registers`);
    const regs = inputs.slice();
    prog.ops.forEach(([code, dst, a, b, c], k) => {
      const arity = EW_INFO[code].arity;
      const r = this.op(code, [a, b, c].slice(0, arity).map((x) => regs[x]), prog.params[k][0], prog.params[k][1]);
      regs[dst] = r;
    });
    return prog.outs.map((x) => regs[x]);
  }

  /** Makes r the program's next output. */
  output(r: EwReg): void {
    if (r.owner !== this) throw internal('output: a register of another program');
    this.outs.push(r);
  }

  /** The numbered program. */
  program(): EwProgram {
    const num = (r: EwReg) => (r.kind === 'input' ? r.index : this.nIn + r.index);
    return {
      nIn: this.nIn,
      ops: this.ops.map((o, k) => {
        const [a, b, c] = o.args.map(num);
        return [o.code, this.nIn + k, a ?? 0, b ?? 0, c ?? 0];
      }),
      params: this.ops.map((o) => [o.p0, o.p1]),
      outs: this.outs.map(num),
    };
  }

  /** The ELEMWISE attributes of the program. */
  build(): EwAttrs {
    if (!this.outs.length) throw internal('a program without outputs');
    return ewAttrs(this.program(), this.ctype);
  }
}

/** The ELEMWISE attributes of a numbered program computing in ctype. */
export function ewAttrs(prog: EwProgram, ctype: DType): EwAttrs {
  const ctypeCode = DTYPE_CODE[ctype === 'bool' ? 'int32' : ctype];
  const { ops, params, outs } = prog;
  // plain loops into arrays of their final size: eager ops build small programs on every cache miss
  const iattr = new Array<number>(2 + ops.length * 5 + outs.length);
  iattr[0] = ctypeCode;
  iattr[1] = ops.length;
  let k = 2;
  for (const o of ops) for (let j = 0; j < 5; j++) iattr[k++] = o[j];
  for (const r of outs) iattr[k++] = r;
  const fattr = new Array<number>(params.length * 2);
  for (let i = 0; i < params.length; i++) {
    fattr[2 * i] = params[i][0];
    fattr[2 * i + 1] = params[i][1];
  }
  return { iattr, fattr };
}

/** The numbered program of ELEMWISE attributes (built by ewAttrs) over nIn inputs. */
export function ewProgramOf(attrs: EwAttrs, nIn: number): EwProgram {
  const { iattr, fattr } = attrs;
  const nOps = iattr[1];
  const ops: EwProgram['ops'] = [];
  const params: EwProgram['params'] = [];
  for (let k = 0; k < nOps; k++) {
    const b = 2 + 5 * k;
    ops.push([iattr[b], iattr[b + 1], iattr[b + 2], iattr[b + 3], iattr[b + 4]]);
    params.push([fattr[2 * k], fattr[2 * k + 1]]);
  }
  return { nIn, ops, params, outs: iattr.slice(2 + 5 * nOps) };
}

/** A one-output program that computes one input of another (see ewSubstitute). */
export interface EwInner {
  attrs: EwAttrs;
  nIn: number;
  /** Inputs given the same key are computed once. */
  key: object;
}

/**
 * The program `outer` (over nIn inputs) with input i computed by inner[i] where that is given, all
 * in ctype: one instruction instead of one per program.  The result's inputs are, in order, each
 * kept input of outer, or the inputs of the program computing it (once per key).
 */
export function ewSubstitute(ctype: DType, outer: EwAttrs, nIn: number, inner: readonly (EwInner | null)[]): EwAttrs {
  const b = new EwBuilder(ctype);
  const done = new Map<object, EwReg>();
  const regs = inner.map((p) => {
    if (p === null) return b.input();
    let r = done.get(p.key);
    if (r === undefined) {
      const prog = ewProgramOf(p.attrs, p.nIn);
      if (prog.outs.length !== 1) throw internal(`substituting a program of ${prog.outs.length} outputs`);
      r = b.inline(prog, Array.from({ length: p.nIn }, () => b.input()))[0];
      done.set(p.key, r);
    }
    return r;
  });
  if (regs.length !== nIn) throw internal(`substituting ${regs.length} inputs of a program of ${nIn}`);
  for (const r of b.inline(ewProgramOf(outer, nIn), regs)) b.output(r);
  return b.build();
}
