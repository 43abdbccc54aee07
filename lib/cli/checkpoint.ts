// Training checkpoints: the model (weights, optimizer state with its iteration count), the
// random-stream states of layers that draw random numbers, the running metric state, and where
// the run was (epoch, batch, global step).  A checkpoint is a folder written under a temporary
// name (every file fsynced), with a manifest of sha256 checksums written last, then renamed into
// place: a reader sees either a whole checkpoint or none, and a damaged one fails its checksums.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as St from '../index';
import type { SharedVariable } from '../graph/shared';
import { assignAll, byName } from '../models/saving';

/** Where a run stands when a checkpoint is taken. */
export interface RunPosition {
  /** The epoch in progress (0-based). */
  epoch: number;
  /** Batches of that epoch already done (the epoch's batch count when it is complete). */
  batch: number;
  /** Training steps done since the start of the run. */
  globalStep: number;
}

export interface CheckpointInfo {
  dir: string;
  position: RunPosition;
}

const PREFIX = 'ckpt-';
const MANIFEST = 'manifest.json';
const FORMAT = 'symtensor-checkpoint';

/** The random-stream states of the model's layers, by a name stable across runs of the same job. */
function rngVariables(model: St.Model): [string, SharedVariable][] {
  const out: [string, SharedVariable][] = [];
  const seen = new Set<unknown>();
  const visit = (l: St.layers.Layer) => {
    if (seen.has(l)) return;
    seen.add(l);
    const stream = (l as unknown as { stream?: { state?: SharedVariable } }).stream;
    // the stream's own variable name is generic; key it by its layer
    if (stream?.state && typeof stream.state.get === 'function') out.push([`rng/${l.name}`, stream.state]);
    for (const s of l.subLayers()) visit(s);
  };
  for (const l of model.layers) visit(l);
  return out;
}

/** Metric and loss-tracker state (so the running means of a resumed epoch continue exactly). */
function metricVariables(model: St.Model): [string, SharedVariable][] {
  return (model.compiled?.metricVariables() ?? []).map((v, i) => [`metric/${i}`, v]);
}

/** Every variable of the run's state besides weights and optimizer, by name. */
function stateVariables(model: St.Model): Map<string, SharedVariable> {
  return new Map([...rngVariables(model), ...metricVariables(model)]);
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function writeSynced(file: string, data: string | Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* not every platform can open a folder; the rename is still atomic */
  }
}

const nameOf = (step: number) => `${PREFIX}${String(step).padStart(9, '0')}`;

/** The folder of the checkpoint taken at `step` in `root` (whether or not it exists). */
export function checkpointDir(root: string, step: number): string {
  return path.join(root, nameOf(step));
}

/** The position a verified checkpoint was taken at. */
export function readPosition(dir: string): RunPosition {
  const pos = JSON.parse(fs.readFileSync(path.join(dir, 'position.json'), 'utf8')) as RunPosition;
  return { epoch: pos.epoch, batch: pos.batch, globalStep: pos.globalStep };
}

/** Checkpoint folders in `root`, newest (highest step) first. */
export function listCheckpoints(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).filter((n) => n.startsWith(PREFIX) && /^\d+$/.test(n.slice(PREFIX.length))).sort().reverse().map((n) => path.join(root, n));
}

/**
 * Writes a checkpoint of `model` at `pos` into `root`, atomically, then deletes all but the
 * newest `keep` checkpoints.  Returns the checkpoint's folder.
 */
export async function writeCheckpoint(st: typeof St, model: St.Model, root: string, pos: RunPosition, keep: number, extra: Record<string, unknown> = {}): Promise<string> {
  fs.mkdirSync(root, { recursive: true });
  const final = path.join(root, nameOf(pos.globalStep));
  const tmp = path.join(root, `.${nameOf(pos.globalStep)}.${process.pid}.tmp`);
  fs.rmSync(tmp, { recursive: true, force: true });
  await model.save(tmp);
  const tensors: Record<string, St.Tensor> = {};
  for (const [k, v] of stateVariables(model)) tensors[k] = v.get();
  try {
    await st.saveSafetensors(path.join(tmp, 'state.safetensors'), tensors);
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
  writeSynced(path.join(tmp, 'position.json'), JSON.stringify({ ...pos, ...extra }, null, 1));
  const files: Record<string, { bytes: number; sha256: string }> = {};
  for (const f of fs.readdirSync(tmp).sort()) {
    const p = path.join(tmp, f);
    files[f] = { bytes: fs.statSync(p).size, sha256: sha256(p) };
  }
  writeSynced(path.join(tmp, MANIFEST), JSON.stringify({ format: FORMAT, position: pos, files }, null, 1));
  fsyncDir(tmp);
  fs.rmSync(final, { recursive: true, force: true });
  fs.renameSync(tmp, final);
  fsyncDir(root);
  for (const old of listCheckpoints(root).slice(keep)) fs.rmSync(old, { recursive: true, force: true });
  return final;
}

/** Why a checkpoint folder is not usable, or null when its manifest and every checksum match. */
export function verifyCheckpoint(dir: string): string | null {
  const mf = path.join(dir, MANIFEST);
  if (!fs.existsSync(mf)) return 'no manifest.json (the checkpoint was not finished)';
  let m: { format?: string; files?: Record<string, { bytes: number; sha256: string }>; position?: RunPosition };
  try {
    m = JSON.parse(fs.readFileSync(mf, 'utf8'));
  } catch (e) {
    return `manifest.json is not valid JSON (${(e as Error).message})`;
  }
  if (m.format !== FORMAT || !m.files || !m.position) return 'manifest.json is not a checkpoint manifest';
  for (const [f, want] of Object.entries(m.files)) {
    const p = path.join(dir, f);
    if (!fs.existsSync(p)) return `${f} is missing`;
    const size = fs.statSync(p).size;
    if (size !== want.bytes) return `${f} has ${size} bytes, the manifest says ${want.bytes} (truncated?)`;
    if (sha256(p) !== want.sha256) return `${f} does not match its sha256 checksum`;
  }
  for (const f of ['model.json', 'weights.safetensors', 'position.json', 'state.safetensors']) if (!m.files[f]) return `the manifest does not list ${f}`;
  return null;
}

/**
 * The newest checkpoint in `root` that passes verifyCheckpoint; each one skipped is reported
 * through `warn` with the reason.  Null when there is none.
 */
export function newestValidCheckpoint(root: string, warn: (msg: string) => void): CheckpointInfo | null {
  for (const dir of listCheckpoints(root)) {
    const why = verifyCheckpoint(dir);
    if (why) {
      warn(`skipping checkpoint ${dir}: ${why}`);
      continue;
    }
    return { dir, position: readPosition(dir) };
  }
  return null;
}

/**
 * Puts a verified checkpoint's state into `model` (built and compiled the same way as the run
 * that wrote it): weights, optimizer state, random streams and metric state.
 */
export async function restoreCheckpoint(st: typeof St, model: St.Model, dir: string): Promise<void> {
  await model.loadWeights(path.join(dir, 'weights.safetensors'));
  const opt = model.optimizer;
  const optFile = path.join(dir, 'optimizer.safetensors');
  if (opt && fs.existsSync(optFile)) {
    opt.build(model.trainableWeights);
    const s = await st.loadSafetensors(optFile);
    try {
      assignAll('resume', optFile, byName('resume', opt.variables()), s.tensors, 'optimizer state');
    } finally {
      for (const t of Object.values(s.tensors)) t.dispose();
    }
  }
  const stateFile = path.join(dir, 'state.safetensors');
  const s = await st.loadSafetensors(stateFile);
  try {
    assignAll('resume', stateFile, stateVariables(model), s.tensors, 'random-stream and metric state');
  } finally {
    for (const t of Object.values(s.tensors)) t.dispose();
  }
}
