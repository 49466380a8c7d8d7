// The kernel benchmark's workloads: every bench-sized case of the op-case registry (test/cases/),
// so every op has a speed figure, its inputs come from the case and its output is checked against
// the project's float64 reference. Cases with a `peer` workload also run in jax-js and TF.js.
import { BENCH_CASES } from '../../test/cases/index.js';
import { numel, type Arr } from '../../src/tensor/reference/index.js';
import { worstError, type BenchCase, type PeerWorkload } from '../../test/cases/case.js';
import type { Family } from '../../src/tensor/ops/names.js';

/** Result of comparing one output with the float64 reference. `ok` when `worst <= 1`. */
export interface CheckResult {
  ok: boolean;
  /** Largest |error| / (atol + rtol·|expected|) over the output (<= 1 passes). */
  worst: number;
  /** How many output values were compared. */
  compared: number;
}

/** What every library needs to run one case: its inputs' shapes and, for the peers, the workload. */
export interface WorkloadSpec {
  /** Stable id used in file names and `--only` filters, e.g. `matmul-1024`. */
  id: string;
  /** What a reader sees in the table: the case's name, e.g. `matmul [1024, 1024] @ [1024, 1024]`. */
  title: string;
  family: Family;
  /** The registry case (webfam runs its `gpu`). */
  case: BenchCase;
  /** Set when jax-js and TF.js run it too. */
  peer?: PeerWorkload;
  shapes: number[][];
  /** Host inputs, in the order of the case's inputs. */
  inputs: Float32Array[];
  /** The case's FLOPs per call (matmul, attention); the rest are rated by traffic. */
  flops?: number;
  /** Bytes an ideal (fully fused) kernel must read and write once: the inputs and the output. */
  bytes: number;
  /** Bytes of one output (bounds how many outputs a sample may keep alive). */
  outputBytes: number;
  /** Compares one output with the case's float64 reference. */
  check(output: Float32Array): CheckResult;
}

const F32 = 4;

/** Every registry case sized for the benchmark, in the order they run. */
export const CASES: readonly BenchCase[] = BENCH_CASES;

/** Makes a case's inputs and its reference output (float64, computed once, before any timing). */
export function workload(c: BenchCase): WorkloadSpec {
  const arrays: Arr[] = c.inputs();
  const expected = c.ref(...arrays);
  const outputBytes = numel(expected.shape) * F32;
  return {
    id: c.id,
    title: c.name,
    family: c.family,
    case: c,
    ...(c.peer ? { peer: c.peer } : {}),
    shapes: arrays.map((a) => a.shape),
    inputs: arrays.map((a) => Float32Array.from(a.data)),
    ...(c.flops !== undefined ? { flops: c.flops } : {}),
    bytes: arrays.reduce((s, a) => s + a.data.length * F32, 0) + outputBytes,
    outputBytes,
    check(output: Float32Array): CheckResult {
      const { worst } = worstError(output, expected.data, c.atol, c.rtol);
      return { ok: worst <= 1, worst, compared: output.length };
    },
  };
}
