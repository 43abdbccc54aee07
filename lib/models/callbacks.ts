/**
 * Keras callbacks for `model.fit`: hooks called at the start and end of training, of each epoch
 * and of each batch, with the running logs (loss and metrics by name).  The built-ins follow
 * Keras 3's semantics: History, ProgbarLogger, EarlyStopping, ModelCheckpoint,
 * ReduceLROnPlateau, LearningRateScheduler, CSVLogger, TerminateOnNaN and LambdaCallback.
 * @example
 *   await model.fit(x, y, {
 *     epochs: 50, validationSplit: 0.1,
 *     callbacks: [st.callbacks.earlyStopping({ patience: 3, restoreBestWeights: true }),
 *                 { onEpochEnd(epoch, logs) { console.log(epoch, logs.val_loss); } }],
 *   });
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SingleBar } from 'cli-progress';
import { SymtensorError, argError, fmtValue } from '../errors';
import type { Tensor } from '../tensor/tensor';
import { worldRank } from '../tensor/distributed/index';

/** Loss and metric values by name ('loss', 'accuracy', 'val_loss' …). */
export type Logs = Record<string, number>;

/** What callbacks need of a model (Sequential and Model provide it). */
export interface CallbackModel {
  name: string;
  /** Set to true to stop fit after the current batch/epoch. */
  stopTraining: boolean;
  /** null before compile. */
  optimizer: {
    /** The learning rate the next step will use. */
    getLearningRate(): number;
    /** Sets the learning rate of the following steps. */
    setLearningRate(lr: number): void;
  } | null;
  /** Copies of all weights, in a fixed order. */
  getWeights(): Tensor[];
  /** Replaces all weights, in getWeights' order. */
  setWeights(values: Tensor[]): void;
  /** Saves a model directory (atomically). */
  save(path: string): Promise<void>;
  /** Saves a weights file. */
  saveWeights(path: string): Promise<void>;
}

/** What fit tells its callbacks about the run. */
export interface FitParams {
  epochs: number;
  /** Batches per epoch, when known. */
  steps: number | null;
  samples: number | null;
  batchSize: number | null;
  verbose: 0 | 1 | 2;
  /** The history keys, val_ ones included. */
  metrics: string[];
}

/** Every hook a callback may have, in Keras's camelCase. */
export const HOOK_NAMES = [
  'onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd',
  'onTestBegin', 'onTestEnd', 'onTestBatchBegin', 'onTestBatchEnd',
  'onPredictBegin', 'onPredictEnd', 'onPredictBatchBegin', 'onPredictBatchEnd',
] as const;
/** The name of one callback hook ('onEpochEnd', …). */
export type HookName = (typeof HOOK_NAMES)[number];

/** What a hook returns: nothing, or a promise fit awaits before going on. */
type Ret = void | Promise<void>;

/**
 * Base of the callbacks: subclass it and define the hooks you need (each optional, each may be
 * async; fit awaits it before going on).  `model` and `params` are set before training begins.
 * @example
 *   class Printer extends st.callbacks.Callback {
 *     onEpochEnd(epoch: number, logs?: Record<string, number>) { console.log(`epoch ${epoch + 1}`, logs); }
 *   }
 */
export abstract class Callback {
  model: CallbackModel | null = null;
  params: FitParams | null = null;
  /** Attaches the model being trained (fit does this before onTrainBegin). */
  setModel(m: CallbackModel): void {
    this.model = m;
  }
  /** Records what fit tells its callbacks about the run (epochs, steps, metrics). */
  setParams(p: FitParams): void {
    this.params = p;
  }
}
// The hooks, optional, declared on the class so subclasses and calls type-check.
export interface Callback {
  /** Called once when fit starts. */
  onTrainBegin?(logs?: Logs): Ret;
  /** Called once when fit ends, with the last epoch's logs. */
  onTrainEnd?(logs?: Logs): Ret;
  /** Called at the start of each epoch (counted from 0). */
  onEpochBegin?(epoch: number, logs?: Logs): Ret;
  /** Called at the end of each epoch with its metrics (val_ ones included when validating). */
  onEpochEnd?(epoch: number, logs?: Logs): Ret;
  /** Called before each training batch (counted from 0 in each epoch). */
  onBatchBegin?(batch: number, logs?: Logs): Ret;
  /** Called after each training batch with the running metrics. */
  onBatchEnd?(batch: number, logs?: Logs): Ret;
  /** Called when evaluate (or fit's validation) starts. */
  onTestBegin?(logs?: Logs): Ret;
  /** Called when evaluate (or fit's validation) ends, with its metrics. */
  onTestEnd?(logs?: Logs): Ret;
  /** Called before each evaluation batch. */
  onTestBatchBegin?(batch: number, logs?: Logs): Ret;
  /** Called after each evaluation batch with the running metrics. */
  onTestBatchEnd?(batch: number, logs?: Logs): Ret;
  /** Called when predict starts. */
  onPredictBegin?(logs?: Logs): Ret;
  /** Called when predict ends. */
  onPredictEnd?(logs?: Logs): Ret;
  /** Called before each predict batch. */
  onPredictBatchBegin?(batch: number, logs?: Logs): Ret;
  /** Called after each predict batch. */
  onPredictBatchEnd?(batch: number, logs?: Logs): Ret;
}

/** A Callback, or a plain object with hook functions ({ onEpochEnd(epoch, logs) {…} }). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CallbackLike = Callback | Partial<Record<HookName, (...a: any[]) => unknown>>;

type HookFn = (this: unknown, ...a: unknown[]) => unknown;

/**
 * The callbacks of one fit/evaluate/predict call: each hook method calls that hook of every
 * callback in order, awaiting each, with the same logs object (so a key one callback adds, such
 * as ReduceLROnPlateau's 'learning_rate', is seen by the ones after it).
 */
export class CallbackList {
  readonly callbacks: CallbackLike[];

  constructor(cbs: CallbackLike[], model: CallbackModel, params: FitParams) {
    const op = 'CallbackList';
    if (!Array.isArray(cbs)) throw argError(op, `callbacks must be an array, got ${fmtValue(cbs)}`);
    cbs.forEach((cb, i) => checkCallbackLike(op, cb, i));
    this.callbacks = cbs.slice();
    for (const cb of this.callbacks) {
      if (cb instanceof Callback) {
        cb.setModel(model);
        cb.setParams(params);
      }
    }
  }

  /** Whether any callback has `hook` (fit skips reading per-batch logs nobody listens to). */
  listens(hook: HookName): boolean {
    return this.callbacks.some((cb) => typeof (cb as Record<string, unknown>)[hook] === 'function');
  }

  private async call(hook: HookName, args: unknown[]): Promise<void> {
    for (const cb of this.callbacks) {
      const f = (cb as Record<string, unknown>)[hook];
      if (typeof f === 'function') await (f as HookFn).apply(cb, args);
    }
  }

  /** Calls every callback's onTrainBegin, in order. */
  onTrainBegin(logs: Logs = {}): Promise<void> { return this.call('onTrainBegin', [logs]); }
  /** Calls every callback's onTrainEnd, in order. */
  onTrainEnd(logs: Logs = {}): Promise<void> { return this.call('onTrainEnd', [logs]); }
  /** Calls every callback's onEpochBegin, in order. */
  onEpochBegin(epoch: number, logs: Logs = {}): Promise<void> { return this.call('onEpochBegin', [epoch, logs]); }
  /** Calls every callback's onEpochEnd, in order. */
  onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> { return this.call('onEpochEnd', [epoch, logs]); }
  /** Calls every callback's onBatchBegin, in order. */
  onBatchBegin(batch: number, logs: Logs = {}): Promise<void> { return this.call('onBatchBegin', [batch, logs]); }
  /** Calls every callback's onBatchEnd, in order. */
  onBatchEnd(batch: number, logs: Logs = {}): Promise<void> { return this.call('onBatchEnd', [batch, logs]); }
  /** Calls every callback's onTestBegin, in order. */
  onTestBegin(logs: Logs = {}): Promise<void> { return this.call('onTestBegin', [logs]); }
  /** Calls every callback's onTestEnd, in order. */
  onTestEnd(logs: Logs = {}): Promise<void> { return this.call('onTestEnd', [logs]); }
  /** Calls every callback's onTestBatchBegin, in order. */
  onTestBatchBegin(batch: number, logs: Logs = {}): Promise<void> { return this.call('onTestBatchBegin', [batch, logs]); }
  /** Calls every callback's onTestBatchEnd, in order. */
  onTestBatchEnd(batch: number, logs: Logs = {}): Promise<void> { return this.call('onTestBatchEnd', [batch, logs]); }
  /** Calls every callback's onPredictBegin, in order. */
  onPredictBegin(logs: Logs = {}): Promise<void> { return this.call('onPredictBegin', [logs]); }
  /** Calls every callback's onPredictEnd, in order. */
  onPredictEnd(logs: Logs = {}): Promise<void> { return this.call('onPredictEnd', [logs]); }
  /** Calls every callback's onPredictBatchBegin, in order. */
  onPredictBatchBegin(batch: number, logs: Logs = {}): Promise<void> { return this.call('onPredictBatchBegin', [batch, logs]); }
  /** Calls every callback's onPredictBatchEnd, in order. */
  onPredictBatchEnd(batch: number, logs: Logs = {}): Promise<void> { return this.call('onPredictBatchEnd', [batch, logs]); }
}

/** A Callback, or an object whose hooks are functions; a misspelt hook name ('onEpochEnds') is an error. */
function checkCallbackLike(op: string, cb: unknown, i: number): void {
  const what = `callbacks[${i}]`;
  if (cb === null || typeof cb !== 'object' || Array.isArray(cb)) {
    throw argError(op, `${what} must be a Callback or an object of hook functions, got ${fmtValue(cb)}`);
  }
  const o = cb as Record<string, unknown>;
  let hooks = 0;
  for (const h of HOOK_NAMES) {
    if (o[h] === undefined) continue;
    if (typeof o[h] !== 'function') throw argError(op, `${what}.${h} must be a function, got ${fmtValue(o[h])}`);
    hooks++;
  }
  if (cb instanceof Callback) return;
  for (const k of Object.keys(o)) {
    if (/^on[A-Z]/.test(k) && !(HOOK_NAMES as readonly string[]).includes(k)) {
      throw argError(op, `${what} has an unknown hook ${fmtValue(k)}; valid hooks: ${HOOK_NAMES.join(', ')}`);
    }
  }
  if (hooks === 0) throw argError(op, `${what} has none of the hooks (${HOOK_NAMES.join(', ')}): got ${fmtValue(cb)}`);
}

// ---------------------------------------------------------------------------------------------
// Option checking and monitoring, shared by the callbacks below.

function checkOptions(op: string, opts: unknown, valid: string[], required: string[] = []): Record<string, unknown> {
  if (opts === undefined && required.length === 0) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw argError(op, `expected an options object, got ${fmtValue(opts)}`);
  const o = opts as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!valid.includes(k)) throw argError(op, `unknown option ${fmtValue(k)}; valid options: ${valid.join(', ')}`);
  for (const k of required) if (o[k] === undefined) throw argError(op, `option ${k} is required`);
  return o;
}

function numOpt(op: string, name: string, v: unknown, dflt: number, { min, int = false }: { min?: number; int?: boolean } = {}): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || (int && !Number.isInteger(v))) {
    throw argError(op, `${name} must be a finite ${int ? 'integer' : 'number'}, got ${fmtValue(v)}`);
  }
  if (min !== undefined && v < min) throw argError(op, `${name} must be >= ${min}, got ${v}`);
  return v;
}

function boolOpt(op: string, name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw argError(op, `${name} must be true or false, got ${fmtValue(v)}`);
  return v;
}

function strOpt(op: string, name: string, v: unknown, dflt?: string): string {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'string' || v.length === 0) throw argError(op, `${name} must be a non-empty string, got ${fmtValue(v)}`);
  return v;
}

function verboseOpt(op: string, v: unknown): number {
  if (v === undefined) return 0;
  if (v !== 0 && v !== 1 && v !== 2) throw argError(op, `verbose must be 0, 1 or 2, got ${fmtValue(v)}`);
  return v;
}

/** Whether a monitored quantity should go down ('min'), up ('max'), or as its name says ('auto'). */
type Mode = 'auto' | 'min' | 'max';
function modeOpt(op: string, v: unknown): Mode {
  if (v === undefined) return 'auto';
  if (v !== 'auto' && v !== 'min' && v !== 'max') throw argError(op, `unknown mode ${fmtValue(v)}; valid modes: auto, min, max`);
  return v;
}

/** Metrics that grow as the model improves (compared without case, '_' and '-'). */
const HIGHER_IS_BETTER = /acc|auc|precision|recall|f1score|fbetascore|iou|r2score|truepositives|truenegatives|specificity|sensitivity/;

/**
 * Whether a monitored quantity improves downwards or upwards.  'auto' is Keras's rule: the val_
 * prefix is ignored; losses, errors and unknown names decrease; accuracy-like metrics, AUC,
 * precision, recall, F-scores, IoU and R² increase.
 */
export function monitorDirection(monitor: string, mode: Mode): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  const name = monitor.replace(/^val_/, '').toLowerCase().replace(/[_-]/g, '');
  if (name.endsWith('loss')) return 'min';
  return HIGHER_IS_BETTER.test(name) ? 'max' : 'min';
}

/** Keras's test: better than the reference by more than minDelta (no reference: always). */
function isImprovement(current: number, reference: number | null, dir: 'min' | 'max', minDelta: number): boolean {
  if (reference === null) return true;
  return dir === 'min' ? current + minDelta < reference : current - minDelta > reference;
}

/** A callback's message; under MPI only rank 0 prints (the logs, hence the decisions, agree on every rank). */
function say(msg: string): void {
  if (worldRank() === 0) console.log(msg);
}

function needModel(op: string, model: CallbackModel | null): CallbackModel {
  if (!model) throw new SymtensorError('ERR_ST_ARG', op, 'the callback has no model: it runs inside model.fit (or a CallbackList)');
  return model;
}

function needOptimizer(op: string, m: CallbackModel | null): NonNullable<CallbackModel['optimizer']> {
  const model = needModel(op, m);
  if (!model.optimizer) throw new SymtensorError('ERR_ST_ARG', op, `model ${model.name} has no optimizer: compile it first`);
  return model.optimizer;
}

// ---------------------------------------------------------------------------------------------
// Python-style number text (Keras writes file names and CSV cells with Python's formatting).

/** Python's repr of a float: shortest round-trip digits, exponent outside [1e-4, 1e16), '.0' on integers. */
export function pyFloat(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const [mant, expText] = v.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  const s = String(v);
  return s.includes('.') ? s : `${s}.0`;
}

function pyExp(v: number, digits: number, upper: boolean): string {
  const [m, e] = v.toExponential(digits).split('e');
  const n = Number(e);
  const s = `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  return upper ? s.toUpperCase() : s;
}

/** Python's 'g' presentation: p significant digits, trailing zeros dropped unless alt. */
function pyGeneral(v: number, p: number, upper: boolean, alt: boolean): string {
  const prec = p === 0 ? 1 : p;
  const exp = Number(v.toExponential(prec - 1).split('e')[1]);
  let s = exp >= -4 && exp < prec ? v.toFixed(prec - 1 - exp) : pyExp(v, prec - 1, upper);
  if (!alt) s = s.replace(/(\.\d*?)0+(?=$|[eE])/, '$1').replace(/\.(?=$|[eE])/, '');
  return s;
}

const SPEC = /^(?:(.)?([<>=^]))?([+\- ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([deEfFgG%])?$/;

/** One value formatted by a Python format spec ('02d', '.4f', '.2e', '>8.3f' …). */
function pyFormat(op: string, key: string, v: number, spec: string, isInt: boolean): string {
  const m = SPEC.exec(spec);
  if (!m) throw argError(op, `bad format spec ${fmtValue(spec)} for {${key}}; expected a Python spec like 02d, .4f or .3e`);
  const [, fillCh, align, sign = '-', alt, zero, widthText, group, precText, type] = m;
  const prec = precText === undefined ? undefined : Number(precText);
  let body: string;
  if (!Number.isFinite(v)) {
    body = Number.isNaN(v) ? 'nan' : 'inf';
    if (type === 'F' || type === 'E' || type === 'G') body = body.toUpperCase();
  } else {
    const a = Math.abs(v);
    switch (type) {
      case 'd':
        if (!Number.isInteger(v)) throw argError(op, `{${key}:${spec}} needs an integer, but ${key} is ${v}`);
        body = String(a);
        break;
      case 'f': case 'F': body = a.toFixed(prec ?? 6); break;
      case 'e': case 'E': body = pyExp(a, prec ?? 6, type === 'E'); break;
      case 'g': case 'G': body = pyGeneral(a, prec ?? 6, type === 'G', !!alt); break;
      case '%': body = (a * 100).toFixed(prec ?? 6) + '%'; break;
      default:
        body = prec !== undefined ? pyGeneral(a, prec, false, false) : isInt ? String(a) : pyFloat(a);
    }
    if (group) body = body.replace(/^\d+/, (d) => d.replace(/\B(?=(\d{3})+$)/g, group));
  }
  const neg = v < 0 || Object.is(v, -0);
  const signText = neg ? '-' : sign === '+' ? '+' : sign === ' ' ? ' ' : '';
  const width = widthText === undefined ? 0 : Number(widthText);
  const fill = fillCh ?? (zero && !align ? '0' : ' ');
  const how = align ?? (zero ? '=' : '>');
  const pad = Math.max(0, width - signText.length - body.length);
  if (how === '=') return signText + fill.repeat(pad) + body;
  const text = signText + body;
  if (how === '<') return text + fill.repeat(pad);
  if (how === '^') return fill.repeat(Math.floor(pad / 2)) + text + fill.repeat(pad - Math.floor(pad / 2));
  return fill.repeat(pad) + text;
}

/**
 * Fills a Python format template ('model-{epoch:02d}-{val_loss:.4f}'): `{name}` or `{name:spec}`
 * with values by name, '{{' and '}}' for literal braces.  Integer keys are listed in `ints`.
 */
function fillTemplate(op: string, template: string, values: Record<string, number>, ints: Set<string>): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      out += c;
      i++;
    } else if (c === '}') {
      throw argError(op, `unmatched '}' in ${fmtValue(template)} (write '}}' for a literal brace)`);
    } else if (c === '{') {
      const end = template.indexOf('}', i);
      if (end < 0) throw argError(op, `unmatched '{' in ${fmtValue(template)} (write '{{' for a literal brace)`);
      const field = template.slice(i + 1, end);
      const colon = field.indexOf(':');
      const key = colon < 0 ? field : field.slice(0, colon);
      if (!(key in values)) throw argError(op, `${fmtValue(template)} names {${key}}, which is not in the logs; available: ${Object.keys(values).join(', ')}`);
      out += pyFormat(op, key, values[key], colon < 0 ? '' : field.slice(colon + 1), ints.has(key));
      i = end;
    } else {
      out += c;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

/**
 * Records every epoch's logs: `history.loss[i]` is the loss of the i-th epoch run.  fit adds one
 * and returns it.  Like Keras, `history` accumulates over several fit calls and `epoch` restarts.
 * @example const h = await model.fit(x, y, { epochs: 5 }); console.log(h.history.loss);
 */
export class History extends Callback {
  history: Record<string, number[]> = {};
  epoch: number[] = [];
  override onTrainBegin(): void {
    this.epoch = [];
  }
  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}

/** Options of ProgbarLogger. */
export interface ProgbarLoggerOptions {
  /** Where to write (default process.stdout); a progress bar is drawn only when it is a TTY. */
  stream?: NodeJS.WritableStream;
  /** Overrides fit's verbose: 0 silent, 1 a bar (one line per epoch without a TTY), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Milliseconds clock for the durations (default performance.now). */
  clock?: () => number;
}

/** Keras's number in a progress line: 4 decimals, or 4 in exponent form when tiny. */
function progNumber(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  return Math.abs(v) > 1e-3 ? v.toFixed(4) : pyExp(v, 4, false);
}

function progDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** Logs as 'loss: 0.3412 - accuracy: 0.8812 - val_loss: …': loss first, val_ keys last. */
function progMetrics(logs: Logs): string[] {
  const keys = Object.keys(logs).filter((k) => k !== 'batch' && k !== 'size' && typeof logs[k] === 'number');
  const train = keys.filter((k) => !k.startsWith('val_'));
  const val = keys.filter((k) => k.startsWith('val_'));
  const lossFirst = (ks: string[], loss: string) => (ks.includes(loss) ? [loss, ...ks.filter((k) => k !== loss)] : ks);
  return [...lossFirst(train, 'loss'), ...lossFirst(val, 'val_loss')].map((k) => `${k}: ${progNumber(logs[k])}`);
}

/** The progress of one epoch (or evaluate/predict run) being drawn. */
interface ProgRun {
  title: string;
  steps: number | null;
  start: number;
  seen: number;
  lastDraw: number;
  bar: SingleBar | null;
}

/**
 * Progress output of fit (and of evaluate/predict outside fit).  verbose 1 on a terminal: a
 * progress bar per epoch (`Epoch e/E`, step/steps, bar, ETA, samples/s, running metrics),
 * replaced at the epoch's end by its summary line; verbose 2, or 1 without a terminal, only the
 * summary lines: `Epoch 3/10 - 1.2s - 2345 samples/s - loss: 0.3412 - val_loss: 0.4021`.
 */
export class ProgbarLogger extends Callback {
  private readonly stream: NodeJS.WritableStream;
  private readonly verboseOverride: 0 | 1 | 2 | undefined;
  private readonly clock: () => number;
  private inFit = false;
  private run: ProgRun | null = null;

  constructor(opts?: ProgbarLoggerOptions) {
    super();
    const op = 'ProgbarLogger';
    const o = checkOptions(op, opts, ['stream', 'verbose', 'clock']);
    if (o.stream !== undefined && (o.stream === null || typeof (o.stream as { write?: unknown }).write !== 'function')) {
      throw argError(op, `stream must be a writable stream, got ${fmtValue(o.stream)}`);
    }
    if (o.clock !== undefined && typeof o.clock !== 'function') throw argError(op, `clock must be a function, got ${fmtValue(o.clock)}`);
    this.stream = (o.stream as NodeJS.WritableStream | undefined) ?? process.stdout;
    this.verboseOverride = o.verbose === undefined ? undefined : (verboseOpt(op, o.verbose) as 0 | 1 | 2);
    this.clock = (o.clock as (() => number) | undefined) ?? (() => performance.now());
  }

  private get verbose(): number {
    return this.verboseOverride ?? this.params?.verbose ?? 1;
  }

  override onTrainBegin(): void { this.inFit = true; }
  override onTrainEnd(): void { this.finish(null); this.inFit = false; }
  override onEpochBegin(epoch: number): void { this.begin(`Epoch ${epoch + 1}/${this.params?.epochs ?? '?'}`); }
  override onBatchEnd(batch: number, logs?: Logs): void { this.step(batch, logs ?? {}); }
  override onEpochEnd(_epoch: number, logs?: Logs): void { this.finish(logs ?? {}); }
  override onTestBegin(): void { if (!this.inFit) this.begin(''); }
  override onTestBatchEnd(batch: number, logs?: Logs): void { if (!this.inFit) this.step(batch, logs ?? {}); }
  override onTestEnd(logs?: Logs): void { if (!this.inFit) this.finish(logs ?? {}); }
  override onPredictBegin(): void { this.begin(''); }
  override onPredictBatchEnd(batch: number): void { this.step(batch, {}); }
  override onPredictEnd(): void { this.finish({}); }

  private begin(title: string): void {
    this.finish(null);
    if (this.verbose === 0) return;
    const now = this.clock();
    const steps = this.params?.steps ?? null;
    this.run = { title, steps, start: now, seen: 0, lastDraw: now, bar: null };
    if (this.verbose === 1 && (this.stream as { isTTY?: boolean }).isTTY === true) this.run.bar = this.startBar(title, steps);
  }

  private startBar(title: string, steps: number | null): SingleBar {
    const head = title ? `${title} ` : '';
    const format = steps === null ? `${head}{value} steps{info}` : `${head}{value}/{total} [{bar}] ETA {eta_formatted}{info}`;
    const bar = new SingleBar({ stream: this.stream, format, fps: 10, barsize: 30, etaBuffer: 30, clearOnComplete: true, hideCursor: false, barCompleteChar: '=', barIncompleteChar: '.' });
    // The bar redraws itself on a timer; unref'd, so a fit that throws cannot keep the process alive.
    const render = bar.render.bind(bar);
    bar.render = () => {
      render();
      (bar as unknown as { timer?: { unref?: () => void } | null }).timer?.unref?.();
    };
    bar.start(steps ?? 0, 0, { info: '' });
    return bar;
  }

  private step(batch: number, logs: Logs): void {
    const run = this.run;
    if (!run) return;
    run.seen = batch + 1;
    if (!run.bar) return;
    const now = this.clock();
    if (now - run.lastDraw < 100 && run.seen !== run.steps) return;
    run.lastDraw = now;
    run.bar.update(run.seen, { info: ' - ' + [this.rate(run, now), ...progMetrics(logs)].join(' - ') });
  }

  /** Samples (or steps, when the batch size is unknown) per second so far. */
  private rate(run: ProgRun, now: number): string {
    const secs = (now - run.start) / 1000;
    const p = this.params;
    let n: number | null = null;
    if (p?.batchSize) n = Math.min(run.seen * p.batchSize, p.samples ?? Infinity);
    else if (p?.samples && p.steps) n = Math.round((p.samples * run.seen) / p.steps);
    const [count, unit] = n === null ? [run.seen, 'steps/s'] : [n, 'samples/s'];
    if (!(secs > 0)) return `? ${unit}`;
    const r = count / secs;
    return `${r >= 10 ? Math.round(r) : r.toFixed(1)} ${unit}`;
  }

  /** Ends the current bar; with logs, writes the summary line. */
  private finish(logs: Logs | null): void {
    const run = this.run;
    if (!run) return;
    this.run = null;
    run.bar?.stop();
    if (logs === null) return;
    const now = this.clock();
    const parts = [progDuration(now - run.start), this.rate(run, now), ...progMetrics(logs)];
    if (run.title) parts.unshift(run.title);
    this.stream.write(parts.join(' - ') + '\n');
  }
}

/** Options of EarlyStopping (Keras's, in camelCase). */
export interface EarlyStoppingOptions {
  /** The logs key watched (default 'val_loss'). */
  monitor?: string;
  /** A change smaller than this is no improvement (default 0). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  verbose?: 0 | 1 | 2;
  /** 'min', 'max', or 'auto' (from the monitor's name). */
  mode?: Mode;
  /** Training stops unless the monitored value gets better than this within `patience` epochs. */
  baseline?: number | null;
  /** At the end of training, set the weights of the best epoch (Keras 3: also when no stop happened). */
  restoreBestWeights?: boolean;
  /** Epochs to wait before watching at all (warm-up). */
  startFromEpoch?: number;
}

/**
 * Stops training when the monitored quantity has not improved for `patience` epochs (Keras 3's
 * EarlyStopping).  `stoppedEpoch` and `bestEpoch` are 0-based; stoppedEpoch stays 0 when training
 * was not stopped.
 * @example st.callbacks.earlyStopping({ monitor: 'val_accuracy', patience: 5, restoreBestWeights: true })
 */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly verbose: number;
  readonly mode: Mode;
  readonly baseline: number | null;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  wait = 0;
  stoppedEpoch = 0;
  best: number | null = null;
  bestEpoch = 0;
  private bestWeights: Tensor[] | null = null;
  private warned = false;

  constructor(opts: EarlyStoppingOptions = {}) {
    super();
    const op = 'EarlyStopping';
    const o = checkOptions(op, opts, ['monitor', 'minDelta', 'patience', 'verbose', 'mode', 'baseline', 'restoreBestWeights', 'startFromEpoch']);
    this.monitor = strOpt(op, 'monitor', o.monitor, 'val_loss');
    this.minDelta = Math.abs(numOpt(op, 'minDelta', o.minDelta, 0));
    this.patience = numOpt(op, 'patience', o.patience, 0, { min: 0, int: true });
    this.verbose = verboseOpt(op, o.verbose);
    this.mode = modeOpt(op, o.mode);
    this.baseline = o.baseline === null ? null : numOpt(op, 'baseline', o.baseline, NaN);
    if (Number.isNaN(this.baseline)) this.baseline = null;
    this.restoreBestWeights = boolOpt(op, 'restoreBestWeights', o.restoreBestWeights, false);
    this.startFromEpoch = numOpt(op, 'startFromEpoch', o.startFromEpoch, 0, { min: 0, int: true });
  }

  override onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = null;
    this.bestEpoch = 0;
    this.dropBestWeights();
    this.warned = false;
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const current = logs[this.monitor];
    if (current === undefined) {
      if (!this.warned) console.warn(`EarlyStopping: early stopping is conditioned on ${this.monitor}, which is not in the logs; available: ${Object.keys(logs).join(', ')}`);
      this.warned = true;
      return;
    }
    if (epoch < this.startFromEpoch) return;
    const model = needModel('EarlyStopping', this.model);
    const dir = monitorDirection(this.monitor, this.mode);
    this.wait++;
    if (isImprovement(current, this.best, dir, this.minDelta)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) {
        // (Keras also copies the weights on the first watched epoch; that epoch always improves on none.)
        this.dropBestWeights();
        this.bestWeights = model.getWeights();
      }
      // The count restarts only when the baseline is beaten too.
      if (this.baseline === null || isImprovement(current, this.baseline, dir, this.minDelta)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      model.stopTraining = true;
    }
  }

  override onTrainEnd(): void {
    if (this.stoppedEpoch > 0 && this.verbose > 0) say(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    if (this.restoreBestWeights && this.bestWeights !== null) {
      if (this.verbose > 0) say(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
      needModel('EarlyStopping', this.model).setWeights(this.bestWeights);
      this.bestWeights = null; // handed to the model: not ours to dispose
    }
  }

  /** The previous best copies are ours alone (getWeights returns copies): free them early. */
  private dropBestWeights(): void {
    for (const t of this.bestWeights ?? []) if (typeof t?.dispose === 'function') t.dispose();
    this.bestWeights = null;
  }
}

/** Options of ModelCheckpoint (Keras's, in camelCase). */
export interface ModelCheckpointOptions {
  /** Where to save; may name logs keys and the 1-based epoch: 'ckpt/model-{epoch:02d}-{val_loss:.4f}'. */
  filepath: string;
  monitor?: string;
  verbose?: 0 | 1 | 2;
  /** Save only when the monitored value improves on the best so far. */
  saveBestOnly?: boolean;
  /** model.saveWeights instead of model.save. */
  saveWeightsOnly?: boolean;
  mode?: Mode;
  /** 'epoch' (default) or a number of batches between saves. */
  saveFreq?: 'epoch' | number;
  /** With saveBestOnly, the value to beat before the first save. */
  initialValueThreshold?: number | null;
}

/**
 * Saves the model (or its weights) after every epoch or every `saveFreq` batches, optionally
 * only when the monitored value improves.  The path is a Python format template filled with
 * `epoch` (1-based), `batch` (1-based, batch-level saving) and the logs' keys.  Under MPI only
 * rank 0 writes (every rank keeps the same best value, from the logs reduced across ranks).
 * @example st.callbacks.modelCheckpoint({ filepath: 'ckpt/epoch-{epoch:02d}', saveBestOnly: true })
 */
export class ModelCheckpoint extends Callback {
  readonly filepath: string;
  readonly monitor: string;
  readonly verbose: number;
  readonly saveBestOnly: boolean;
  readonly saveWeightsOnly: boolean;
  readonly mode: Mode;
  readonly saveFreq: 'epoch' | number;
  best: number | null;
  private currentEpoch = 0;
  private lastBatchSeen = 0;
  private batchesSinceSave = 0;
  private warned = false;

  constructor(opts: ModelCheckpointOptions) {
    super();
    const op = 'ModelCheckpoint';
    const o = checkOptions(op, opts, ['filepath', 'monitor', 'verbose', 'saveBestOnly', 'saveWeightsOnly', 'mode', 'saveFreq', 'initialValueThreshold'], ['filepath']);
    this.filepath = strOpt(op, 'filepath', o.filepath);
    this.monitor = strOpt(op, 'monitor', o.monitor, 'val_loss');
    this.verbose = verboseOpt(op, o.verbose);
    this.saveBestOnly = boolOpt(op, 'saveBestOnly', o.saveBestOnly, false);
    this.saveWeightsOnly = boolOpt(op, 'saveWeightsOnly', o.saveWeightsOnly, false);
    this.mode = modeOpt(op, o.mode);
    if (o.saveFreq !== undefined && o.saveFreq !== 'epoch' && !(Number.isInteger(o.saveFreq) && (o.saveFreq as number) > 0)) {
      throw argError(op, `saveFreq must be 'epoch' or a positive integer (batches), got ${fmtValue(o.saveFreq)}`);
    }
    this.saveFreq = (o.saveFreq as 'epoch' | number | undefined) ?? 'epoch';
    this.best = o.initialValueThreshold == null ? null : numOpt(op, 'initialValueThreshold', o.initialValueThreshold, 0);
  }

  override onEpochBegin(epoch: number): void {
    this.currentEpoch = epoch;
  }

  override async onBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    if (this.saveFreq === 'epoch') return;
    // A batch index that did not grow means a new epoch began.
    this.batchesSinceSave += batch <= this.lastBatchSeen ? batch + 1 : batch - this.lastBatchSeen;
    this.lastBatchSeen = batch;
    if (this.batchesSinceSave < this.saveFreq) return;
    this.batchesSinceSave = 0;
    await this.saveModel(this.currentEpoch, batch, logs);
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    if (this.saveFreq === 'epoch') await this.saveModel(epoch, null, logs);
  }

  /** The path for an epoch (0-based) and batch (0-based, or null), as Keras fills it. */
  filePath(epoch: number, batch: number | null, logs: Logs): string {
    const values: Record<string, number> = { ...logs, epoch: epoch + 1 };
    const ints = new Set(['epoch']);
    if (batch !== null && !('batch' in logs)) {
      values.batch = batch + 1;
      ints.add('batch');
    }
    return fillTemplate('ModelCheckpoint', this.filepath, values, ints);
  }

  private async saveModel(epoch: number, batch: number | null, logs: Logs): Promise<void> {
    const file = this.filePath(epoch, batch, logs);
    if (this.saveBestOnly) {
      const current = logs[this.monitor];
      if (current === undefined) {
        if (!this.warned) console.warn(`ModelCheckpoint: can save the best model only with ${this.monitor} in the logs, skipping; available: ${Object.keys(logs).join(', ')}`);
        this.warned = true;
        return;
      }
      const bestText = this.best === null ? 'None' : this.best.toFixed(5);
      if (!isImprovement(current, this.best, monitorDirection(this.monitor, this.mode), 0)) {
        if (this.verbose > 0) say(`Epoch ${epoch + 1}: ${this.monitor} did not improve from ${bestText}`);
        return;
      }
      if (this.verbose > 0) say(`Epoch ${epoch + 1}: ${this.monitor} improved from ${bestText} to ${current.toFixed(5)}, saving model to ${file}`);
      this.best = current;
    } else if (this.verbose > 0) {
      say(`Epoch ${epoch + 1}: saving model to ${file}`);
    }
    // under MPI the ranks hold the same weights: rank 0 alone writes them
    if (worldRank() !== 0) return;
    const dir = path.dirname(file);
    if (dir && dir !== '.') await fs.promises.mkdir(dir, { recursive: true });
    const model = needModel('ModelCheckpoint', this.model);
    await (this.saveWeightsOnly ? model.saveWeights(file) : model.save(file));
  }
}

/** Options of ReduceLROnPlateau (Keras's, in camelCase). */
export interface ReduceLROnPlateauOptions {
  monitor?: string;
  /** New rate = rate * factor (default 0.1; must be < 1). */
  factor?: number;
  /** Epochs without improvement before a reduction (default 10). */
  patience?: number;
  verbose?: 0 | 1 | 2;
  mode?: Mode;
  /** A change smaller than this is no improvement (default 1e-4). */
  minDelta?: number;
  /** Epochs after a reduction during which waiting does not count (default 0). */
  cooldown?: number;
  /** The rate never goes below this (default 0). */
  minLr?: number;
}

/**
 * Multiplies the learning rate by `factor` when the monitored quantity has not improved for
 * `patience` epochs (Keras 3's ReduceLROnPlateau).  Adds 'learning_rate' (the rate the epoch used)
 * to the epoch's logs.
 * @example st.callbacks.reduceLROnPlateau({ factor: 0.5, patience: 2, minLr: 1e-5 })
 */
export class ReduceLROnPlateau extends Callback {
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly verbose: number;
  readonly mode: Mode;
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  wait = 0;
  cooldownCounter = 0;
  best: number | null = null;
  private warned = false;

  constructor(opts: ReduceLROnPlateauOptions = {}) {
    super();
    const op = 'ReduceLROnPlateau';
    const o = checkOptions(op, opts, ['monitor', 'factor', 'patience', 'verbose', 'mode', 'minDelta', 'cooldown', 'minLr']);
    this.monitor = strOpt(op, 'monitor', o.monitor, 'val_loss');
    this.factor = numOpt(op, 'factor', o.factor, 0.1, { min: 0 });
    if (this.factor >= 1) throw argError(op, `factor must be < 1 (it multiplies the learning rate), got ${this.factor}`);
    this.patience = numOpt(op, 'patience', o.patience, 10, { min: 0, int: true });
    this.verbose = verboseOpt(op, o.verbose);
    this.mode = modeOpt(op, o.mode);
    this.minDelta = Math.abs(numOpt(op, 'minDelta', o.minDelta, 1e-4));
    this.cooldown = numOpt(op, 'cooldown', o.cooldown, 0, { min: 0, int: true });
    this.minLr = numOpt(op, 'minLr', o.minLr, 0, { min: 0 });
  }

  override onTrainBegin(): void {
    this.wait = 0;
    this.cooldownCounter = 0;
    this.best = null;
    this.warned = false;
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const opt = needOptimizer('ReduceLROnPlateau', this.model);
    logs.learning_rate = opt.getLearningRate();
    const current = logs[this.monitor];
    if (current === undefined) {
      if (!this.warned) console.warn(`ReduceLROnPlateau: learning rate reduction is conditioned on ${this.monitor}, which is not in the logs; available: ${Object.keys(logs).join(', ')}`);
      this.warned = true;
      return;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    if (isImprovement(current, this.best, monitorDirection(this.monitor, this.mode), this.minDelta)) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter === 0) {
      this.wait++;
      if (this.wait >= this.patience) {
        const old = opt.getLearningRate();
        // The rate lives in float32: compare with minLr as float32 so a rate set to minLr counts as there.
        if (old > Math.fround(this.minLr)) {
          const lr = Math.max(old * this.factor, this.minLr);
          opt.setLearningRate(lr);
          if (this.verbose > 0) say(`Epoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${pyFloat(lr)}.`);
          this.cooldownCounter = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }
}

/**
 * Sets the learning rate at the start of each epoch to `schedule(epoch, currentLr)` (epoch
 * 0-based), and adds 'learning_rate' to the epoch's logs.
 * @example st.callbacks.learningRateScheduler((epoch, lr) => (epoch < 10 ? lr : lr * Math.exp(-0.1)))
 */
export class LearningRateScheduler extends Callback {
  /** The function giving each epoch's learning rate from the epoch (from 0) and the current rate. */
  readonly schedule: (epoch: number, lr: number) => number;
  readonly verbose: number;

  constructor(schedule: (epoch: number, lr: number) => number, opts: { verbose?: 0 | 1 | 2 } = {}) {
    super();
    const op = 'LearningRateScheduler';
    if (typeof schedule !== 'function') throw argError(op, `schedule must be a function (epoch, lr) => lr, got ${fmtValue(schedule)}`);
    const o = checkOptions(op, opts, ['verbose']);
    this.schedule = schedule;
    this.verbose = verboseOpt(op, o.verbose);
  }

  override onEpochBegin(epoch: number): void {
    const op = 'LearningRateScheduler';
    const opt = needOptimizer(op, this.model);
    const lr: unknown = this.schedule(epoch, opt.getLearningRate());
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) throw argError(op, `the schedule must return a finite number >= 0, got ${fmtValue(lr)} at epoch ${epoch}`);
    opt.setLearningRate(lr);
    if (this.verbose > 0) say(`Epoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${pyFloat(lr)}.`);
  }

  override onEpochEnd(_epoch: number, logs: Logs = {}): void {
    logs.learning_rate = needOptimizer('LearningRateScheduler', this.model).getLearningRate();
  }
}

/** Options of CSVLogger. */
export interface CSVLoggerOptions {
  filename: string;
  /** Between cells (default ','). */
  separator?: string;
  /** Append to an existing file (its header is kept) instead of overwriting it. */
  append?: boolean;
}

/**
 * Writes each epoch's logs as a CSV row: 'epoch' (0-based), then the first epoch's keys sorted
 * (plus the val_ keys fit will report, when the first epoch had none), numbers as Python writes
 * them, 'NA' for a missing key.  Each row is on disk when the epoch ends.  Under MPI only rank 0
 * writes the file.
 * @example st.callbacks.csvLogger({ filename: 'training.csv' })
 */
export class CSVLogger extends Callback {
  readonly filename: string;
  readonly separator: string;
  readonly append: boolean;
  private keys: string[] | null = null;
  private needHeader = true;

  constructor(opts: CSVLoggerOptions) {
    super();
    const op = 'CSVLogger';
    const o = checkOptions(op, opts, ['filename', 'separator', 'append'], ['filename']);
    this.filename = strOpt(op, 'filename', o.filename);
    this.separator = strOpt(op, 'separator', o.separator, ',');
    this.append = boolOpt(op, 'append', o.append, false);
  }

  override async onTrainBegin(): Promise<void> {
    this.keys = null;
    this.needHeader = true;
    await this.io(async () => {
      if (this.append && fs.existsSync(this.filename)) {
        const text = await fs.promises.readFile(this.filename, 'utf8');
        this.needHeader = text.split('\n', 1)[0].length === 0;
      } else {
        await fs.promises.writeFile(this.filename, '');
      }
    });
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    let text = '';
    if (this.keys === null) {
      const keys = Object.keys(logs);
      // Validation may start after the first epoch (validationFreq): reserve its columns.
      if (!keys.some((k) => k.startsWith('val_'))) for (const k of this.params?.metrics ?? []) if (k.startsWith('val_') && !keys.includes(k)) keys.push(k);
      this.keys = keys.sort();
      if (this.needHeader) text += this.row(['epoch', ...this.keys]);
    }
    text += this.row([String(epoch), ...this.keys.map((k) => (typeof logs[k] === 'number' ? pyFloat(logs[k]) : 'NA'))]);
    await this.io(() => fs.promises.appendFile(this.filename, text));
  }

  private row(cells: string[]): string {
    const quote = (c: string) => (c.includes(this.separator) || /["\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
    return cells.map(quote).join(this.separator) + '\n';
  }

  private async io(f: () => Promise<unknown>): Promise<void> {
    // under MPI every rank sees the same (reduced) logs: rank 0 alone writes the file
    if (worldRank() !== 0) return;
    try {
      await f();
    } catch (e) {
      throw new SymtensorError('ERR_ST_ARG', 'CSVLogger', `cannot write ${fmtValue(this.filename)}: ${(e as Error).message}`);
    }
  }
}

/**
 * Stops training as soon as a batch's loss is NaN or infinite, saying which batch (0-based) of
 * which epoch (1-based).
 */
export class TerminateOnNaN extends Callback {
  private epoch = 0;
  override onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }
  override onBatchEnd(batch: number, logs: Logs = {}): void {
    const loss = logs.loss;
    if (typeof loss === 'number' && !Number.isFinite(loss)) {
      say(`Batch ${batch} (epoch ${this.epoch + 1}): Invalid loss, terminating training`);
      needModel('TerminateOnNaN', this.model).stopTraining = true;
    }
  }
}

/** The hooks of a LambdaCallback: any of the callback hooks, as plain functions. */
export type LambdaCallbackOptions = Partial<Record<HookName, (...a: any[]) => unknown>>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * A callback made of the given functions, for one-off hooks.
 * @example st.callbacks.lambdaCallback({ onEpochEnd: (epoch, logs) => console.log(epoch, logs.loss) })
 */
export class LambdaCallback extends Callback {
  constructor(opts: LambdaCallbackOptions = {}) {
    super();
    const op = 'LambdaCallback';
    const o = checkOptions(op, opts, [...HOOK_NAMES]);
    for (const [k, f] of Object.entries(o)) {
      if (f === undefined) continue;
      if (typeof f !== 'function') throw argError(op, `${k} must be a function, got ${fmtValue(f)}`);
      (this as Record<string, unknown>)[k] = f;
    }
  }
}

/** Factories for the built-in callbacks, in Keras's names. */
export const callbacks = {
  earlyStopping: (o?: EarlyStoppingOptions) => new EarlyStopping(o),
  modelCheckpoint: (o: ModelCheckpointOptions) => new ModelCheckpoint(o),
  reduceLROnPlateau: (o?: ReduceLROnPlateauOptions) => new ReduceLROnPlateau(o),
  learningRateScheduler: (fn: (epoch: number, lr: number) => number, o?: { verbose?: 0 | 1 | 2 }) => new LearningRateScheduler(fn, o),
  csvLogger: (o: CSVLoggerOptions) => new CSVLogger(o),
  terminateOnNaN: () => new TerminateOnNaN(),
  lambdaCallback: (o: LambdaCallbackOptions) => new LambdaCallback(o),
  progbarLogger: (o?: ProgbarLoggerOptions) => new ProgbarLogger(o),
  history: () => new History(),
};
