// Callbacks against a fake model: the expected epochs, learning rates, paths and file contents are
// worked out by hand from Keras 3's rules (each case says how), never read back from the code.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { SymtensorError } from '../../lib/errors';
import {
  CSVLogger, Callback, CallbackLike, CallbackList, CallbackModel, EarlyStopping, FitParams, History, LambdaCallback,
  LearningRateScheduler, Logs, ModelCheckpoint, ProgbarLogger, ReduceLROnPlateau, TerminateOnNaN, callbacks, monitorDirection,
} from '../../lib/models/callbacks';
import type { Tensor } from '../../lib/tensor/tensor';

/** A stand-in for a weight copy: remembers the epoch it was taken at and whether it was disposed. */
interface FakeWeight { takenAt: number; disposed: boolean; dispose(): void }

class FakeModel implements CallbackModel {
  name = 'fake';
  stopTraining = false;
  /** The epoch fit is in; getWeights tags its copies with it. */
  epoch = -1;
  lr: number;
  lrSets: number[] = [];
  copies: FakeWeight[] = [];
  restored: number[][] = [];
  saved: string[] = [];
  optimizer: CallbackModel['optimizer'];
  constructor(lr = 1, withOptimizer = true) {
    this.lr = lr;
    this.optimizer = withOptimizer ? { getLearningRate: () => this.lr, setLearningRate: (v: number) => { this.lr = v; this.lrSets.push(v); } } : null;
  }
  getWeights(): Tensor[] {
    const w: FakeWeight = { takenAt: this.epoch, disposed: false, dispose() { this.disposed = true; } };
    this.copies.push(w);
    return [w as unknown as Tensor];
  }
  setWeights(values: Tensor[]): void {
    this.restored.push(values.map((v) => (v as unknown as FakeWeight).takenAt));
  }
  async save(p: string): Promise<void> { this.saved.push(`model:${p}`); }
  async saveWeights(p: string): Promise<void> { this.saved.push(`weights:${p}`); }
}

const params = (over: Partial<FitParams> = {}): FitParams => ({ epochs: 100, steps: null, samples: null, batchSize: null, verbose: 0, metrics: [], ...over });

/** Runs fit's epoch loop over given per-epoch logs; returns how many epochs ran. */
async function fit(cbs: CallbackLike[], model: FakeModel, series: Record<string, number[]>, p: FitParams = params()): Promise<number> {
  const list = new CallbackList(cbs, model, p);
  const n = Math.max(...Object.values(series).map((s) => s.length));
  model.stopTraining = false;
  await list.onTrainBegin({});
  let ran = 0;
  for (let e = 0; e < n && !model.stopTraining; e++) {
    model.epoch = e;
    await list.onEpochBegin(e, {});
    const logs: Logs = {};
    for (const [k, s] of Object.entries(series)) if (e < s.length) logs[k] = s[e];
    await list.onEpochEnd(e, logs);
    ran++;
  }
  await list.onTrainEnd({});
  return ran;
}

function expectArgError(f: () => unknown, parts: string[]): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SymtensorError, `expected a SymtensorError, got ${String(caught)}`);
  assert.equal(caught.code, 'ERR_ST_ARG');
  for (const p of parts) assert.ok(caught.message.includes(p), `message ${JSON.stringify(caught.message)} should include ${JSON.stringify(p)}`);
}

/** Captures console.log / console.warn lines while f runs. */
async function capture(which: 'log' | 'warn', f: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  const orig = console[which];
  console[which] = (...a: unknown[]) => { lines.push(a.map(String).join(' ')); };
  try {
    await f();
  } finally {
    console[which] = orig;
  }
  return lines;
}

describe('models: callbacks', () => {
  describe('EarlyStopping', () => {
    it('min mode: stops once patience epochs pass without improvement, restores the best weights', async () => {
      // best 1.0 (e0), 0.8 (e1); e2 wait 1, e3 wait 2 >= patience → stop at epoch 3, best epoch 1.
      const m = new FakeModel();
      const es = new EarlyStopping({ monitor: 'loss', patience: 2, restoreBestWeights: true });
      assert.equal(await fit([es], m, { loss: [1.0, 0.8, 0.9, 0.85, 0.7, 0.6] }), 4);
      assert.equal(es.stoppedEpoch, 3);
      assert.equal(es.bestEpoch, 1);
      assert.equal(es.best, 0.8);
      assert.deepEqual(m.restored, [[1]]);
      // The copies of epochs 0 (first seen) and 1 (improved) were taken; epoch 0's was replaced and freed.
      assert.deepEqual(m.copies.map((c) => [c.takenAt, c.disposed]), [[0, true], [1, false]]);
    });

    it('minDelta: a gain smaller than minDelta is no improvement', async () => {
      // 0.95 + 0.1 is not < 1.0 → wait 1 >= 1 → stop at epoch 1.
      const a = new EarlyStopping({ monitor: 'loss', patience: 1, minDelta: 0.1 });
      assert.equal(await fit([a], new FakeModel(), { loss: [1.0, 0.95, 0.5] }), 2);
      assert.equal(a.stoppedEpoch, 1);
      // 0.85 + 0.1 < 1.0 improves; 0.80 + 0.1 is not < 0.85 → stop at epoch 2. A negative minDelta means the same.
      const b = new EarlyStopping({ monitor: 'loss', patience: 1, minDelta: -0.1 });
      assert.equal(await fit([b], new FakeModel(), { loss: [1.0, 0.85, 0.8, 0.1] }), 3);
      assert.equal(b.stoppedEpoch, 2);
      assert.equal(b.best, 0.85);
    });

    it('max mode, by name (auto) and explicit', async () => {
      // val_accuracy increases: 0.5, 0.6 improve; 0.6 again is not > 0.6 → stop at epoch 2.
      const a = new EarlyStopping({ monitor: 'val_accuracy', patience: 1 });
      assert.equal(await fit([a], new FakeModel(), { val_accuracy: [0.5, 0.6, 0.6, 0.7] }), 3);
      assert.equal(a.stoppedEpoch, 2);
      assert.equal(a.bestEpoch, 1);
      // 'score' is unknown, so auto means min: 2 does not improve on 1 → stop at epoch 1 (patience 0) …
      const b = new EarlyStopping({ monitor: 'score' });
      assert.equal(await fit([b], new FakeModel(), { score: [1, 2, 1.5] }), 2);
      // … while mode 'max' takes 2 as better and stops on 1.5 at epoch 2.
      const c = new EarlyStopping({ monitor: 'score', mode: 'max' });
      assert.equal(await fit([c], new FakeModel(), { score: [1, 2, 1.5] }), 3);
      assert.equal(c.stoppedEpoch, 2);
      assert.equal(c.best, 2);
    });

    it('baseline: waiting restarts only when the baseline is beaten', async () => {
      // Keras 3: every epoch adds 1 to wait; an improvement returns early and resets wait only
      // when it also beats the baseline.  e0 wait 1, e1 wait 2 (improves, not below 0.5),
      // e2: 0.85 no improvement, wait 3 >= 2 → stop at epoch 2.
      const a = new EarlyStopping({ monitor: 'loss', patience: 2, baseline: 0.5 });
      assert.equal(await fit([a], new FakeModel(), { loss: [0.9, 0.8, 0.85, 0.7, 0.6] }), 3);
      assert.equal(a.stoppedEpoch, 2);
      // Without the baseline e2 leaves wait at 1 and training goes on.
      const b = new EarlyStopping({ monitor: 'loss', patience: 2 });
      assert.equal(await fit([b], new FakeModel(), { loss: [0.9, 0.8, 0.85, 0.7, 0.6] }), 5);
      assert.equal(b.stoppedEpoch, 0);
      // Beating it (0.4 < 0.5) resets: e2 wait 1, e3 wait 2 → stop at epoch 3.
      const c = new EarlyStopping({ monitor: 'loss', patience: 2, baseline: 0.5 });
      assert.equal(await fit([c], new FakeModel(), { loss: [0.9, 0.4, 0.45, 0.46, 0.47] }), 4);
      assert.equal(c.stoppedEpoch, 3);
    });

    it('startFromEpoch: the first epochs are not watched', async () => {
      // Epochs 0 and 1 ignored; best 3 at e2; 4 at e3 → stop (patience 0).
      const es = new EarlyStopping({ monitor: 'loss', startFromEpoch: 2 });
      assert.equal(await fit([es], new FakeModel(), { loss: [1, 2, 3, 4, 3.5] }), 4);
      assert.equal(es.stoppedEpoch, 3);
      assert.equal(es.bestEpoch, 2);
    });

    it('restores the best weights when training ends without a stop, and says so when verbose', async () => {
      const m = new FakeModel();
      const es = new EarlyStopping({ monitor: 'loss', patience: 5, restoreBestWeights: true, verbose: 1 });
      const lines = await capture('log', () => fit([es], m, { loss: [1, 0.5, 0.7] }));
      assert.equal(es.stoppedEpoch, 0);
      assert.deepEqual(m.restored, [[1]]);
      assert.deepEqual(lines, ['Restoring model weights from the end of the best epoch: 2.']);
      const m2 = new FakeModel();
      const lines2 = await capture('log', () => fit([new EarlyStopping({ monitor: 'loss', verbose: 1 })], m2, { loss: [1, 0.5, 0.7, 0.1] }));
      assert.deepEqual(lines2, ['Epoch 3: early stopping']);
      assert.deepEqual(m2.restored, []);
    });

    it('a missing monitor key warns once and does nothing', async () => {
      const m = new FakeModel();
      const es = new EarlyStopping({ restoreBestWeights: true });
      let ran = 0;
      const warns = await capture('warn', async () => { ran = await fit([es], m, { loss: [1, 2, 3, 4] }); });
      assert.equal(ran, 4);
      assert.equal(warns.length, 1);
      assert.ok(warns[0].includes('val_loss') && warns[0].includes('loss'), warns[0]);
      assert.deepEqual(m.restored, []);
      assert.equal(m.copies.length, 0);
    });

    it('rejects bad options naming the valid ones', () => {
      expectArgError(() => new EarlyStopping({ mode: 'down' as never }), ['EarlyStopping', '"down"', 'auto, min, max']);
      expectArgError(() => new EarlyStopping({ patients: 3 } as never), ['EarlyStopping', '"patients"', 'patience']);
      expectArgError(() => new EarlyStopping({ patience: 1.5 }), ['patience', 'integer', '1.5']);
    });
  });

  describe('ReduceLROnPlateau', () => {
    it('reduces after patience epochs on a plateau and logs the rate each epoch used', async () => {
      // e0 best; e1 wait 1; e2 wait 2 → 0.5; e3 wait 1; e4 wait 2 → 0.25; e5 wait 1.
      const m = new FakeModel(1);
      const h = new History();
      await fit([new ReduceLROnPlateau({ factor: 0.5, patience: 2 }), h], m, { val_loss: [1, 1, 1, 1, 1, 1] });
      assert.deepEqual(m.lrSets, [0.5, 0.25]);
      assert.deepEqual(h.history.learning_rate, [1, 1, 1, 0.5, 0.5, 0.25]);
    });

    it('cooldown: no waiting counted for cooldown epochs after a reduction', async () => {
      // patience 1, cooldown 2: e1 → 0.5 (cooldown 2); e2 cooldown→1; e3 cooldown→0, then wait 1
      // → 0.25 (cooldown 2); e4 cooldown→1; e5 cooldown→0, wait 1 → 0.125.
      const m = new FakeModel(1);
      const h = new History();
      await fit([new ReduceLROnPlateau({ monitor: 'loss', factor: 0.5, patience: 1, cooldown: 2 }), h], m, { loss: [3, 3, 3, 3, 3, 3] });
      assert.deepEqual(m.lrSets, [0.5, 0.25, 0.125]);
      assert.deepEqual(h.history.learning_rate, [1, 1, 0.5, 0.5, 0.25, 0.25]);
    });

    it('minLr: the rate stops at minLr and is not set again', async () => {
      // 1 → 0.1 → max(0.01, 0.05) = 0.05; then 0.05 is not above minLr: no more calls.
      const m = new FakeModel(1);
      await fit([new ReduceLROnPlateau({ monitor: 'loss', patience: 1, minLr: 0.05 })], m, { loss: [1, 1, 1, 1, 1] });
      assert.deepEqual(m.lrSets, [0.1, 0.05]);
    });

    it('minDelta (default 1e-4) and max mode', async () => {
      // 0.99995 + 1e-4 is not < 1 → plateau → reduce at e1; 0.9 is a real gain → no reduction.
      const a = new FakeModel(1);
      await fit([new ReduceLROnPlateau({ monitor: 'loss', patience: 1 })], a, { loss: [1, 0.99995] });
      assert.deepEqual(a.lrSets, [0.1]);
      const b = new FakeModel(1);
      await fit([new ReduceLROnPlateau({ monitor: 'loss', patience: 1 })], b, { loss: [1, 0.9] });
      assert.deepEqual(b.lrSets, []);
      // val_accuracy is maximized: falling accuracy is a plateau, rising is not.
      const c = new FakeModel(1);
      await fit([new ReduceLROnPlateau({ monitor: 'val_accuracy', patience: 1 })], c, { val_accuracy: [0.5, 0.6, 0.4] });
      assert.deepEqual(c.lrSets, [0.1]);
    });

    it('needs an optimizer, and a factor below 1', async () => {
      await assert.rejects(fit([new ReduceLROnPlateau()], new FakeModel(1, false), { val_loss: [1] }), (e: SymtensorError) => e.code === 'ERR_ST_ARG' && /ReduceLROnPlateau.*compile/.test(e.message));
      expectArgError(() => new ReduceLROnPlateau({ factor: 1 }), ['ReduceLROnPlateau', 'factor', '< 1']);
    });
  });

  describe('LearningRateScheduler', () => {
    it('sets schedule(epoch, lr) at each epoch begin and logs it', async () => {
      const m = new FakeModel(0.1);
      const h = new History();
      const seen: [number, number][] = [];
      const sched = new LearningRateScheduler((epoch, lr) => { seen.push([epoch, lr]); return epoch < 2 ? lr : lr / 2; });
      await fit([sched, h], m, { loss: [1, 1, 1, 1] });
      assert.deepEqual(seen, [[0, 0.1], [1, 0.1], [2, 0.1], [3, 0.05]]);
      assert.deepEqual(h.history.learning_rate, [0.1, 0.1, 0.05, 0.025]);
    });

    it('rejects a schedule that returns no number, and says what it set when verbose', async () => {
      await assert.rejects(fit([new LearningRateScheduler(() => NaN)], new FakeModel(), { loss: [1] }), (e: SymtensorError) => e.code === 'ERR_ST_ARG' && e.message.includes('NaN') && e.message.includes('epoch 0'));
      const lines = await capture('log', () => fit([new LearningRateScheduler((e) => 0.5 / (e + 1), { verbose: 1 })], new FakeModel(), { loss: [1, 1] }));
      assert.deepEqual(lines, ['Epoch 1: LearningRateScheduler setting learning rate to 0.5.', 'Epoch 2: LearningRateScheduler setting learning rate to 0.25.']);
      expectArgError(() => new LearningRateScheduler(3 as never), ['LearningRateScheduler', 'function']);
    });
  });

  describe('ModelCheckpoint', () => {
    let tmp = '';
    before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'symtensor-cb-')); });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it('saveBestOnly saves only on improvements, at the templated path (epoch 1-based)', async () => {
      const m = new FakeModel();
      const file = path.join(tmp, 'best', 'model-{epoch:02d}-{val_loss:.4f}');
      await fit([new ModelCheckpoint({ filepath: file, saveBestOnly: true })], m, { val_loss: [0.5, 0.6, 0.4, 0.4, 0.123456] });
      const dir = path.join(tmp, 'best');
      assert.deepEqual(m.saved, [`model:${dir}/model-01-0.5000`, `model:${dir}/model-03-0.4000`, `model:${dir}/model-05-0.1235`]);
      assert.ok(fs.statSync(dir).isDirectory(), 'the folder of the path is created');
    });

    it('weights only, max mode, every epoch without saveBestOnly', async () => {
      const m = new FakeModel();
      const file = path.join(tmp, 'w-{epoch}.safetensors');
      await fit([new ModelCheckpoint({ filepath: file, saveWeightsOnly: true, monitor: 'val_accuracy', saveBestOnly: true })], m, { val_accuracy: [0.5, 0.4, 0.7] });
      assert.deepEqual(m.saved, [`weights:${tmp}/w-1.safetensors`, `weights:${tmp}/w-3.safetensors`]);
      const m2 = new FakeModel();
      await fit([new ModelCheckpoint({ filepath: path.join(tmp, 'all-{epoch}') })], m2, { loss: [3, 2, 1] });
      assert.deepEqual(m2.saved, [1, 2, 3].map((e) => `model:${tmp}/all-${e}`));
    });

    it('saveFreq counts batches across epochs', async () => {
      // 3 batches an epoch, a save every 2: after e0 b1, e1 b0, e1 b2.
      const m = new FakeModel();
      const list = new CallbackList([new ModelCheckpoint({ filepath: path.join(tmp, 'b{epoch}-{batch}'), saveFreq: 2 })], m, params({ steps: 3 }));
      await list.onTrainBegin();
      for (let e = 0; e < 2; e++) {
        await list.onEpochBegin(e);
        for (let b = 0; b < 3; b++) await list.onBatchEnd(b, { loss: 1 });
        await list.onEpochEnd(e, { loss: 1 });
      }
      assert.deepEqual(m.saved, ['b1-2', 'b2-1', 'b2-3'].map((n) => `model:${tmp}/${n}`));
    });

    it('fills templates as Python format does', () => {
      const ck = (t: string) => new ModelCheckpoint({ filepath: t });
      const logs = { loss: 0.000123, val_loss: 1, acc: 0.5, big: 12345.678 };
      assert.equal(ck('{epoch}|{epoch:03d}|{epoch:>4}|{epoch:<3}|').filePath(2, null, logs), '3|003|   3|3  |');
      assert.equal(ck('{loss}|{val_loss}|{acc}|{loss:.2e}|{acc:.1%}').filePath(0, null, logs), '0.000123|1.0|0.5|1.23e-04|50.0%');
      assert.equal(ck('{big:,.1f}|{acc:+.3f}|{acc:08.3f}|{big:g}|{loss:g}').filePath(0, null, logs), '12,345.7|+0.500|0000.500|12345.7|0.000123');
      assert.equal(ck('{{x}}-{epoch}').filePath(0, null, logs), '{x}-1');
      expectArgError(() => ck('m-{val_acc:.2f}').filePath(0, null, logs), ['ModelCheckpoint', '{val_acc}', 'loss, val_loss, acc, big, epoch']);
      expectArgError(() => ck('m-{loss:d}').filePath(0, null, logs), ['{loss:d}', 'integer']);
      expectArgError(() => new ModelCheckpoint({ filepath: 'x', saveFreq: 0 }), ['saveFreq', "'epoch'"]);
      expectArgError(() => new ModelCheckpoint({} as never), ['filepath', 'required']);
    });
  });

  describe('CSVLogger', () => {
    let tmp = '';
    before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'symtensor-csv-')); });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it('writes a header of sorted keys and one row per epoch, on disk at each epoch end', async () => {
      const file = path.join(tmp, 'log.csv');
      const csv = new CSVLogger({ filename: file });
      const list = new CallbackList([csv], new FakeModel(), params());
      await list.onTrainBegin();
      await list.onEpochEnd(0, { loss: 0.5, accuracy: 0.75, val_loss: 0.625, val_accuracy: 1 });
      const header = 'epoch,accuracy,loss,val_accuracy,val_loss\n';
      assert.equal(fs.readFileSync(file, 'utf8'), header + '0,0.75,0.5,1.0,0.625\n');
      await list.onEpochEnd(1, { loss: 0.25, accuracy: NaN, val_loss: 1e-5, extra: 3 });
      await list.onTrainEnd();
      assert.equal(fs.readFileSync(file, 'utf8'), header + '0,0.75,0.5,1.0,0.625\n1,nan,0.25,NA,1e-05\n');
      // append keeps the header and adds rows; a new run without append starts over.
      await fit([new CSVLogger({ filename: file, append: true })], new FakeModel(), { loss: [2], accuracy: [0.125], val_loss: [3], val_accuracy: [0] });
      assert.equal(fs.readFileSync(file, 'utf8'), header + '0,0.75,0.5,1.0,0.625\n1,nan,0.25,NA,1e-05\n0,0.125,2.0,0.0,3.0\n');
      await fit([new CSVLogger({ filename: file, separator: ';' })], new FakeModel(), { loss: [2, 1] });
      assert.equal(fs.readFileSync(file, 'utf8'), 'epoch;loss\n0;2.0\n1;1.0\n');
    });

    it('reserves the val_ columns fit announces when the first epoch has none', async () => {
      const file = path.join(tmp, 'later.csv');
      const csv = new CSVLogger({ filename: file });
      const list = new CallbackList([csv], new FakeModel(), params({ metrics: ['loss', 'val_loss'] }));
      await list.onTrainBegin();
      await list.onEpochEnd(0, { loss: 1 });
      await list.onEpochEnd(1, { loss: 0.5, val_loss: 0.75 });
      assert.equal(fs.readFileSync(file, 'utf8'), 'epoch,loss,val_loss\n0,1.0,NA\n1,0.5,0.75\n');
    });

    it('reports a file it cannot write', async () => {
      const list = new CallbackList([new CSVLogger({ filename: path.join(tmp, 'no', 'such', 'dir', 'x.csv') })], new FakeModel(), params());
      await assert.rejects(list.onTrainBegin(), (e: SymtensorError) => e.code === 'ERR_ST_ARG' && e.message.startsWith('CSVLogger: cannot write') && e.message.includes('x.csv'));
    });
  });

  describe('TerminateOnNaN', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      it(`stops at a loss of ${bad}, naming the batch and epoch`, async () => {
        const m = new FakeModel();
        const list = new CallbackList([new TerminateOnNaN()], m, params());
        const lines = await capture('log', async () => {
          await list.onEpochBegin(2);
          await list.onBatchEnd(6, { loss: 0.5 });
          assert.equal(m.stopTraining, false);
          await list.onBatchEnd(7, { loss: bad });
        });
        assert.equal(m.stopTraining, true);
        assert.deepEqual(lines, ['Batch 7 (epoch 3): Invalid loss, terminating training']);
      });
    }
  });

  describe('ProgbarLogger', () => {
    /** A stream that keeps what is written; `tty` makes it look like a terminal. */
    function sink(tty = false): Writable & { text: () => string; isTTY?: boolean; columns?: number } {
      const chunks: string[] = [];
      const s = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }) as Writable & { text: () => string; isTTY?: boolean; columns?: number };
      s.text = () => chunks.join('');
      if (tty) { s.isTTY = true; s.columns = 200; }
      return s;
    }
    /** A clock that returns the given times in turn. */
    const clock = (...t: number[]) => () => { const v = t.shift(); assert.ok(v !== undefined, 'clock read too often'); return v; };

    it('verbose 2: one exact line per epoch, loss first and val_ keys last', async () => {
      const out = sink();
      // Epoch begins at 1000 ms and ends at 2200 ms: 1.2 s; 4 batches of 32 capped at 100 samples → 100 / 1.2 = 83.3/s.
      const pb = new ProgbarLogger({ stream: out, clock: clock(1000, 2200) });
      const list = new CallbackList([pb], new FakeModel(), params({ epochs: 10, steps: 4, samples: 100, batchSize: 32, verbose: 2 }));
      await list.onTrainBegin();
      await list.onEpochBegin(2);
      for (let b = 0; b < 4; b++) await list.onBatchEnd(b, { loss: 1, accuracy: 0.5 });
      await list.onEpochEnd(2, { accuracy: 0.88124, loss: 0.34118, val_accuracy: 0.85334, val_loss: 0.40206, tiny: 0.0001 });
      await list.onTrainEnd();
      assert.equal(out.text(), 'Epoch 3/10 - 1.2s - 83 samples/s - loss: 0.3412 - accuracy: 0.8812 - tiny: 1.0000e-04 - val_loss: 0.4021 - val_accuracy: 0.8533\n');
    });

    it('verbose 1 without a terminal prints the same lines; verbose 0 prints nothing', async () => {
      const out = sink();
      const pb = new ProgbarLogger({ stream: out });
      await fit([pb], new FakeModel(), { loss: [0.5, 0.25] }, params({ epochs: 2, verbose: 1 }));
      const lines = out.text().split('\n');
      assert.equal(lines.length, 3);
      assert.match(lines[0], /^Epoch 1\/2 - \d+\.\ds - (\?|[\d.]+) steps\/s - loss: 0\.5000$/);
      assert.match(lines[1], /^Epoch 2\/2 - \d+\.\ds - (\?|[\d.]+) steps\/s - loss: 0\.2500$/);
      const quiet = sink();
      await fit([new ProgbarLogger({ stream: quiet })], new FakeModel(), { loss: [1] }, params({ verbose: 0 }));
      assert.equal(quiet.text(), '');
    });

    it('verbose 1 on a terminal draws a bar, then leaves the summary line', async () => {
      const out = sink(true);
      let t = 0;
      const pb = new ProgbarLogger({ stream: out, clock: () => (t += 150) });
      const list = new CallbackList([pb], new FakeModel(), params({ epochs: 2, steps: 4, samples: 128, batchSize: 32, verbose: 1 }));
      await list.onTrainBegin();
      await list.onEpochBegin(0);
      for (let b = 0; b < 4; b++) await list.onBatchEnd(b, { loss: 1 / (b + 1) });
      await list.onEpochEnd(0, { loss: 0.25, val_loss: 0.5 });
      await list.onTrainEnd();
      // eslint-disable-next-line no-control-regex
      const text = out.text().replace(/\x1b(\[[0-9;?]*[A-Za-z]|[78])/g, '');
      assert.ok(text.includes('Epoch 1/2 4/4 [=============================='), text);
      assert.ok(text.includes('loss: 0.2500'), text);
      assert.match(text, /Epoch 1\/2 - 0\.\ds - \d+ samples\/s - loss: 0\.2500 - val_loss: 0\.5000\n$/);
    });
  });

  describe('CallbackList', () => {
    it('calls hooks in list order, awaits async ones, shares the logs, sets model and params', async () => {
      const calls: string[] = [];
      const m = new FakeModel();
      const p = params({ epochs: 3 });
      class Rec extends Callback {
        override async onEpochEnd(epoch: number, logs?: Logs) {
          await new Promise((r) => setTimeout(r, 5));
          calls.push(`rec:${epoch}`);
          logs!.added = 1;
        }
      }
      const rec = new Rec();
      const plain = { onEpochEnd(epoch: number, logs: Logs) { calls.push(`plain:${epoch}:${logs.added}`); }, onTrainBegin() { calls.push('plain:begin'); } };
      const list = new CallbackList([rec, plain], m, p);
      assert.equal(rec.model, m);
      assert.equal(rec.params, p);
      await list.onTrainBegin();
      await list.onEpochEnd(0, { loss: 1 });
      await list.onBatchEnd(0, { loss: 1 }); // neither has it
      assert.deepEqual(calls, ['plain:begin', 'rec:0', 'plain:0:1']);
    });

    it('rejects bad entries, naming the index', () => {
      const m = new FakeModel();
      expectArgError(() => new CallbackList([new History(), 42 as never], m, params()), ['CallbackList', 'callbacks[1]', '42']);
      expectArgError(() => new CallbackList([null as never], m, params()), ['callbacks[0]', 'null']);
      expectArgError(() => new CallbackList([{ onEpochEnd: 5 } as never], m, params()), ['callbacks[0].onEpochEnd', 'function']);
      expectArgError(() => new CallbackList([{ onEpochEnds() {} } as never], m, params()), ['callbacks[0]', '"onEpochEnds"', 'onEpochEnd']);
      expectArgError(() => new CallbackList([{}], m, params()), ['callbacks[0]', 'none of the hooks']);
      expectArgError(() => new CallbackList({} as never, m, params()), ['must be an array']);
    });
  });

  it('History accumulates over fits, epoch restarts', async () => {
    const h = new History();
    const m = new FakeModel();
    await fit([h], m, { loss: [3, 2], acc: [0.1, 0.2] });
    assert.deepEqual(h.epoch, [0, 1]);
    await fit([h], m, { loss: [1] });
    assert.deepEqual(h.history, { loss: [3, 2, 1], acc: [0.1, 0.2] });
    assert.deepEqual(h.epoch, [0]);
  });

  it('LambdaCallback and the callbacks factories', async () => {
    const seen: string[] = [];
    const lc = new LambdaCallback({ onEpochBegin: (e: number) => seen.push(`b${e}`), onEpochEnd: (e: number, l: Logs) => seen.push(`e${e}:${l.loss}`), onTrainEnd: () => seen.push('end') });
    await fit([lc], new FakeModel(), { loss: [5, 6] });
    assert.deepEqual(seen, ['b0', 'e0:5', 'b1', 'e1:6', 'end']);
    expectArgError(() => new LambdaCallback({ onEpochEnd: 3 } as never), ['LambdaCallback', 'onEpochEnd', 'function']);
    expectArgError(() => new LambdaCallback({ onEpoch: () => 1 } as never), ['LambdaCallback', '"onEpoch"', 'onEpochBegin']);
    assert.ok(callbacks.earlyStopping({ patience: 2 }) instanceof EarlyStopping);
    assert.ok(callbacks.modelCheckpoint({ filepath: 'x' }) instanceof ModelCheckpoint);
    assert.ok(callbacks.reduceLROnPlateau() instanceof ReduceLROnPlateau);
    assert.ok(callbacks.learningRateScheduler((_e, lr) => lr) instanceof LearningRateScheduler);
    assert.ok(callbacks.csvLogger({ filename: 'x.csv' }) instanceof CSVLogger);
    assert.ok(callbacks.terminateOnNaN() instanceof TerminateOnNaN);
    assert.ok(callbacks.lambdaCallback({}) instanceof LambdaCallback);
    assert.ok(callbacks.progbarLogger() instanceof ProgbarLogger);
    assert.ok(callbacks.history() instanceof History);
  });

  it("auto mode picks the direction from the monitor's name", () => {
    const dirs = ['val_loss', 'loss', 'val_accuracy', 'sparseCategoricalAccuracy', 'acc', 'val_auc', 'precision', 'mae', 'val_meanSquaredError', 'unknown']
      .map((k) => monitorDirection(k, 'auto'));
    assert.deepEqual(dirs, ['min', 'min', 'max', 'max', 'max', 'max', 'max', 'min', 'min', 'min']);
    assert.equal(monitorDirection('val_accuracy', 'min'), 'min');
  });
});
