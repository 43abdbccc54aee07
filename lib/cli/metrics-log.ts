// metrics.jsonl: one JSON object a line, for every N training steps ("kind": "step") and every
// epoch ("kind": "epoch"), plus the final test result ("kind": "test").
import * as fs from 'node:fs';

/** One line of metrics.jsonl. */
export interface MetricsLine {
  kind: 'step' | 'epoch' | 'test';
  /** 1-based epoch (absent on the test line). */
  epoch?: number;
  /** Training steps done when the line was written. */
  globalStep: number;
  /** Seconds since the run (or the resumed run) started. */
  time: number;
  /** Loss and metrics by name (val_ ones on epoch lines when there is validation data). */
  [metric: string]: number | string | undefined;
}

/** Reads metrics.jsonl; lines that do not parse (a line cut short by a crash) are dropped. */
export function readMetrics(file: string): MetricsLine[] {
  if (!fs.existsSync(file)) return [];
  const out: MetricsLine[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line);
      if (v && typeof v === 'object' && typeof v.kind === 'string') out.push(v);
    } catch {
      /* a partial last line */
    }
  }
  return out;
}

/** Appends lines to metrics.jsonl. */
export class MetricsLog {
  constructor(readonly file: string) {}

  /** Starts a fresh file, or, when resuming at `globalStep`, keeps only the lines written up to it. */
  begin(resumeAt: number | null): void {
    const keep = resumeAt === null ? [] : readMetrics(this.file).filter((l) => l.kind !== 'test' && l.globalStep <= resumeAt);
    fs.writeFileSync(this.file, keep.map((l) => JSON.stringify(l) + '\n').join(''));
  }

  write(line: MetricsLine): void {
    fs.appendFileSync(this.file, JSON.stringify(line) + '\n');
  }
}
