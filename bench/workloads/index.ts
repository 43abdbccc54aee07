// The workloads `npm run bench` runs, in table order.  A new workload: a module exporting a
// Workload (see ../harness.ts), listed here; for a numpy counterpart add its `kind` to
// ../peers/numpy_bench.py.
import type { Workload } from '../harness';
import { conv2d } from './conv2d';
import { elementwise } from './elementwise';
import { sgemm } from './sgemm';

export const workloads: Workload[] = [sgemm, elementwise, conv2d];
