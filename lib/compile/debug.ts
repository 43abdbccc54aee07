// SYMTENSOR_DEBUG: 1 prints each compiled program, 2 also per-instruction timings at exit, 3 also
// every rewrite applied (see graph/fgraph.ts).
import { fmtShape } from '../errors';
import type { ProgramDesc } from './lower';

/** The SYMTENSOR_DEBUG level (0 when unset). */
export function debugLevel(): number {
  return Number(process.env.SYMTENSOR_DEBUG ?? 0) || 0;
}

/** One instruction a line, for SYMTENSOR_DEBUG. */
export function formatProgram(name: string, d: ProgramDesc): string {
  const kind = ['in', 'bound', 'tmp', 'out', 'view'];
  const s = (id: number) => `${kind[d.slots[id].kind]}${id}${fmtShape(d.slots[id].shape)}`;
  const lines = d.instrs.map((ins, i) => `  ${String(i).padStart(3)} ${ins.label.padEnd(24)} ${ins.outputs.map(s).join(', ')} <- ${ins.inputs.map(s).join(', ')}`);
  const copies = d.copies.map(([dst, src]) => `      update ${s(dst)} <- ${s(src)}`);
  return `[symtensor] program ${name}: ${d.instrs.length} instructions, arena ${d.arenaBytes} bytes\n${[...lines, ...copies].join('\n')}\n`;
}

/**
 * One instruction's timing from f.profile(): its index in the program, its op, total milliseconds and number of runs.
 */
export interface ProfileEntry {
  index: number;
  op: string;
  ms: number;
  calls: number;
}

interface Profiled {
  readonly name: string;
  profile(): ProfileEntry[];
}

// Functions whose timings SYMTENSOR_DEBUG=2 prints at exit; the exit handler is installed when
// the first one is created, never merely by importing the library.
const profiled: WeakRef<Profiled>[] = [];

/** Prints f's per-instruction timings when the process exits (SYMTENSOR_DEBUG=2). */
export function profileAtExit(f: Profiled): void {
  if (!profiled.length) process.once('exit', printProfiles);
  profiled.push(new WeakRef(f));
}

function printProfiles(): void {
  for (const ref of profiled) {
    const f = ref.deref();
    if (!f) continue;
    let all: ProfileEntry[];
    try {
      all = f.profile();
    } catch {
      continue; // disposed (fit disposes its steps): nothing left to read
    }
    const rows = all.filter((r) => r.calls > 0);
    if (!rows.length) continue;
    const total = rows.reduce((a, r) => a + r.ms, 0);
    process.stderr.write(`[symtensor] profile of ${f.name} (${total.toFixed(3)} ms in ${rows[0].calls} calls)\n`);
    for (const r of rows.sort((a, b) => b.ms - a.ms))
      process.stderr.write(`  ${String(r.index).padStart(3)} ${r.op.padEnd(28)} ${(r.ms / r.calls).toFixed(4)} ms/call  ${((100 * r.ms) / total).toFixed(1)}%\n`);
  }
}
