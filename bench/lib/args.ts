// Command-line options of the kernel benchmark.
import type { BenchCase } from '../../test/cases/case.js';

export const HELP = `Usage: node dist/bench/kernels.js [options]      (or: npm run bench -- [options])

Times every op of the op-case registry (test/cases/) in webfam, and matmul, softmax, layer norm
and a GELU chain also in jax-js and TensorFlow.js, on the same WebGPU adapter in one process;
writes bench/results/kernels-<date>-<tag>.{json,md}.

  --quick            fewer samples and no matmul 2048³ (a few minutes on a 2-core software GPU)
  --only <list>      comma-separated families or ids (prefixes): matmul, softmax, layernorm,
                     pointwise, reduce, gelu-chain, matmul-1024, ...
  --skip <list>      the same, to leave out
  --peers <list>     libraries to run (default webfam,jax-js,tfjs)
  --samples <n>      exactly n samples per case (default: fitted to --budget, 3 to 10)
  --budget <sec>     seconds of sampling per case and library (default 3, --quick 1)
  --out <dir>        where the results go (default bench/results)
  --tag <name>       file-name tag for the adapter (default from the adapter, e.g. lavapipe)
  --json             print the report as one JSON line on stdout (progress goes to stderr)
  --no-write         do not write result files
  --dawn-flag <f>    extra Dawn toggle (repeatable), e.g. enable-dawn-features=allow_unsafe_apis
  --help             this text
`;

export interface BenchArgs {
  quick: boolean;
  only: string[];
  skip: string[];
  peers: string[];
  samples?: number;
  budgetSec: number;
  out: string;
  tag?: string;
  json: boolean;
  write: boolean;
  dawnFlags: string[];
  help: boolean;
}

export const ALL_PEERS = ['webfam', 'jax-js', 'tfjs'];

function list(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

export function parseArgs(argv: string[]): BenchArgs {
  const a: BenchArgs = { quick: false, only: [], skip: [], peers: ALL_PEERS, budgetSec: NaN, out: 'bench/results', json: false, write: true, dawnFlags: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value (see --help)`);
      return v;
    };
    const num = (): number => {
      const v = value();
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number, got '${v}'`);
      return n;
    };
    switch (flag) {
      case '--quick': a.quick = true; break;
      case '--only': a.only.push(...list(value())); break;
      case '--skip': a.skip.push(...list(value())); break;
      case '--peers': {
        a.peers = list(value());
        const unknown = a.peers.filter((p) => !ALL_PEERS.includes(p));
        if (unknown.length) throw new Error(`--peers: unknown ${unknown.join(', ')} (known: ${ALL_PEERS.join(', ')})`);
        break;
      }
      case '--samples': a.samples = Math.round(num()); break;
      case '--budget': a.budgetSec = num(); break;
      case '--out': a.out = value(); break;
      case '--tag': a.tag = value(); break;
      case '--json': a.json = true; break;
      case '--no-write': a.write = false; break;
      case '--dawn-flag': a.dawnFlags.push(value()); break;
      case '--help': case '-h': a.help = true; break;
      default: throw new Error(`unknown option '${arg}' (see --help)`);
    }
  }
  if (Number.isNaN(a.budgetSec)) a.budgetSec = a.quick ? 1 : 3;
  return a;
}

function matches(w: BenchCase, token: string): boolean {
  return w.family === token || w.id.startsWith(token);
}

export function selectWorkloads(all: readonly BenchCase[], a: BenchArgs): BenchCase[] {
  for (const t of [...a.only, ...a.skip]) {
    if (!all.some((w) => matches(w, t))) throw new Error(`'${t}' matches no workload (ids: ${all.map((w) => w.id).join(', ')})`);
  }
  return all.filter((w) =>
    (a.only.length === 0 || a.only.some((t) => matches(w, t))) &&
    !a.skip.some((t) => matches(w, t)) &&
    // --quick drops the heavy ones unless they were asked for by name.
    !(a.quick && w.heavy && !a.only.some((t) => t === w.id)));
}
