// The workloads `npm run bench` runs, in table order.  A new workload: a module exporting a
// Workload (see ../harness.ts), listed here; for Python counterparts add its `kind` to
// ../peers/numpy_bench.py and/or ../peers/torch_bench.py.  (mlp-model.ts, fit-model.ts,
// mlp-rss-child.ts and compile-time-child.ts are helpers, not workloads.)
import type { Workload } from '../harness';
import { callOverhead } from './call-overhead';
import { compileTime } from './compile-time';
import { conv2d } from './conv2d';
import { elementwise } from './elementwise';
import { fitEpoch } from './fit-epoch';
import { mlpAdam } from './mlp-adam';
import { mlpInfer } from './mlp-infer';
import { mlpRss } from './mlp-rss';
import { mlpSgd } from './mlp-sgd';
import { naturalDrop } from './natural-drop';
import { sgemm } from './sgemm';
import { rnnScan } from './rnn-scan';
import { lstmTrain } from './lstm';
import { attentionBlock } from './attention';

export const workloads: Workload[] = [sgemm, elementwise, conv2d, callOverhead, mlpSgd, mlpAdam, mlpInfer, mlpRss, compileTime, fitEpoch, rnnScan, lstmTrain, attentionBlock, naturalDrop];
