// Optimisers with PyTorch's update rules — SGD (momentum, Nesterov, coupled weight decay) and
// AdamW (decoupled decay) — each update one fused in-place op per parameter (src/tensor/ops/
// optim.ts); parameter groups with their own lr scale and weight decay; state dicts that resume
// training exactly.
import { Tensor } from '../tensor/tensor.js';
import { fmt, sameShape } from '../tensor/shape.js';
import { copyInto_ } from '../tensor/ops/movement.js';
import { adamwUpdate_, sgdUpdate_ } from '../tensor/ops/optim.js';

export { clipGradNorm } from './clip.js';
export { cosineSchedule, type CosineScheduleOptions } from './schedule.js';

/** A set of parameters with its own hyper-parameters (any option of the optimiser). */
export type ParamGroupSpec<O> = Partial<O> & {
  params: Iterable<Tensor>;
  /** lr relative to the optimiser's base lr (kept when the base lr changes, e.g. by a schedule). */
  lrScale?: number;
};

/** A resolved group: every option filled in; `lr` is the base lr × `lrScale`. */
export type ParamGroup<O> = O & { params: Tensor[]; lrScale: number };

interface BaseOptions {
  lr: number;
  weightDecay: number;
}

interface ParamState {
  /** Updates applied to this parameter (PyTorch's per-parameter `step`). */
  step: number;
  buffers: Record<string, Tensor>;
}

/** An optimiser's resumable state; tensors are the optimiser's own (save them, do not dispose). */
export interface OptimizerState {
  /** Per parameter (index in group order), its step count and state tensors. */
  state: Record<number, { step: number; buffers: Record<string, Tensor> }>;
  /** Each group's hyper-parameters and the indices of its parameters. */
  paramGroups: ({ params: number[] } & Record<string, unknown>)[];
  baseLr: number;
}

function isGroupList<O>(p: Iterable<Tensor> | ParamGroupSpec<O>[]): p is ParamGroupSpec<O>[] {
  return Array.isArray(p) && p.length > 0 && !(p[0] instanceof Tensor);
}

export abstract class Optimizer<O extends BaseOptions> {
  readonly paramGroups: ParamGroup<O>[];
  /** The lr every group's `lrScale` multiplies; set it with `setLr`. */
  baseLr: number;
  protected readonly state = new Map<Tensor, ParamState>();
  /** Names of the per-parameter state tensors, in the order stateDict lists them. */
  protected abstract readonly bufferNames: readonly string[];

  constructor(params: Iterable<Tensor> | ParamGroupSpec<O>[], protected readonly defaults: O) {
    const name = this.constructor.name;
    this.baseLr = defaults.lr;
    const specs: ParamGroupSpec<O>[] = isGroupList(params) ? params : [{ params } as ParamGroupSpec<O>];
    const seen = new Set<Tensor>();
    this.paramGroups = specs.map((spec, gi) => {
      const list = [...spec.params];
      for (const p of list) {
        if (!(p instanceof Tensor)) throw new Error(`${name}: group ${gi} holds something that is not a Tensor`);
        if (p.disposed) throw new Error(`${name}: a parameter of shape ${fmt(p.shape)} in group ${gi} was disposed`);
        if (seen.has(p)) throw new Error(`${name}: parameter ${p.name || fmt(p.shape)} appears in more than one group (or twice)`);
        seen.add(p);
      }
      if (spec.lr !== undefined && spec.lrScale !== undefined) throw new Error(`${name}: group ${gi} gives both lr and lrScale; give one`);
      let lrScale = spec.lrScale ?? 1;
      if (spec.lr !== undefined) {
        if (!(defaults.lr > 0)) throw new Error(`${name}: group ${gi} gives lr but the base lr is ${defaults.lr}; give lrScale instead`);
        lrScale = spec.lr / defaults.lr;
      }
      const group = { ...defaults, ...spec, params: list, lrScale } as ParamGroup<O>;
      group.lr = defaults.lr * lrScale;
      this.validate(group, gi);
      return group;
    });
    if (seen.size === 0) throw new Error(`${name}: no parameters to optimise`);
  }

  /** Checks a group's hyper-parameters; throws naming the group. */
  protected validate(g: ParamGroup<O>, gi: number): void {
    const name = this.constructor.name;
    if (!(g.lr >= 0)) throw new Error(`${name}: group ${gi}: lr must be >= 0, got ${g.lr}`);
    if (!(g.weightDecay >= 0)) throw new Error(`${name}: group ${gi}: weightDecay must be >= 0, got ${g.weightDecay}`);
  }

  /** Sets the base lr; every group's lr becomes base × its lrScale. Call it each step with a schedule. */
  setLr(lr: number): void {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new Error(`${this.constructor.name}.setLr: lr must be a finite number >= 0, got ${lr}`);
    this.baseLr = lr;
    for (const g of this.paramGroups) g.lr = lr * g.lrScale;
  }

  /** Every parameter, in group order (the indices stateDict uses). */
  params(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params()) p.zeroGrad();
  }

  /** Applies one update to every parameter that has a gradient (others are skipped, as in PyTorch). */
  step(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const g = p.grad;
        if (!g) continue;
        if (p.disposed || g.disposed) throw new Error(`${this.constructor.name}.step: parameter ${p.name || fmt(p.shape)} or its gradient was disposed`);
        if (!sameShape(g.shape, p.shape)) throw new Error(`${this.constructor.name}.step: gradient ${fmt(g.shape)} for parameter ${p.name} ${fmt(p.shape)}`);
        let st = this.state.get(p);
        if (!st) {
          st = { step: 0, buffers: this.initState(p) };
          for (const b of Object.values(st.buffers)) b.keep();
          this.state.set(p, st);
        }
        st.step++;
        if (p.size > 0) this.update(p, g, group, st);
      }
    }
  }

  /** Fresh state tensors for a parameter (kept out of tidy scopes by the caller). */
  protected abstract initState(p: Tensor): Record<string, Tensor>;
  /** Records the fused update of one parameter; `st.step` is already the new step count. */
  protected abstract update(p: Tensor, g: Tensor, group: ParamGroup<O>, st: ParamState): void;

  stateDict(): OptimizerState {
    const index = new Map(this.params().map((p, i) => [p, i]));
    const state: OptimizerState['state'] = {};
    for (const [p, st] of this.state) state[index.get(p)!] = { step: st.step, buffers: { ...st.buffers } };
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...hyper } = g;
      return { ...structuredClone(hyper), params: params.map((p) => index.get(p)!) } as OptimizerState['paramGroups'][number];
    });
    return { state, paramGroups, baseLr: this.baseLr };
  }

  /**
   * Restores a state dict (from `stateDict()` of an optimiser over the same parameters, possibly
   * after a trip through safetensors). Copies the tensors, so the dict may be disposed afterwards.
   * Everything is checked first; on an error nothing is changed.
   */
  loadStateDict(sd: OptimizerState): void {
    const name = `${this.constructor.name}.loadStateDict`;
    const params = this.params();
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new Error(`${name}: the state has ${sd.paramGroups.length} parameter groups, this optimiser ${this.paramGroups.length}`);
    }
    sd.paramGroups.forEach((g, gi) => {
      const want = this.paramGroups[gi]!.params.length;
      if (g.params.length !== want) throw new Error(`${name}: group ${gi} has ${g.params.length} parameters in the state, ${want} here`);
    });
    const problems: string[] = [];
    for (const [k, s] of Object.entries(sd.state)) {
      const p = params[Number(k)];
      if (!p) { problems.push(`  state for parameter ${k}, which does not exist (${params.length} parameters)`); continue; }
      if (!Number.isInteger(s.step) || s.step < 0) problems.push(`  parameter ${k}: bad step ${s.step}`);
      for (const b of this.bufferNames) {
        const t = s.buffers[b];
        if (!t) problems.push(`  parameter ${k} (${p.name || fmt(p.shape)}): missing ${b}`);
        else if (t.disposed) problems.push(`  parameter ${k}: ${b} was disposed`);
        else if (!sameShape(t.shape, p.shape)) problems.push(`  parameter ${k} (${p.name}): ${b} has shape ${fmt(t.shape)}, the parameter ${fmt(p.shape)}`);
      }
    }
    // Hyper-parameters from a file are checked like constructor arguments before anything changes.
    const merged = sd.paramGroups.map((g, gi) => {
      const { params: _ignored, ...hyper } = g;
      const group = { ...this.paramGroups[gi]!, ...structuredClone(hyper) } as ParamGroup<O>;
      try {
        this.validate(group, gi);
      } catch (e) {
        problems.push(`  ${(e as Error).message}`);
      }
      return hyper;
    });
    if (!(sd.baseLr >= 0)) problems.push(`  bad baseLr ${sd.baseLr}`);
    if (problems.length) throw new Error(`${name}: nothing was loaded:\n${problems.join('\n')}`);

    for (const st of this.state.values()) for (const b of Object.values(st.buffers)) b.dispose();
    this.state.clear();
    for (const [k, s] of Object.entries(sd.state)) {
      const p = params[Number(k)]!;
      const buffers: Record<string, Tensor> = {};
      for (const b of this.bufferNames) {
        const dst = Tensor.empty(p.shape).keep();
        copyInto_(dst, s.buffers[b]!);
        buffers[b] = dst;
      }
      this.state.set(p, { step: s.step, buffers });
    }
    merged.forEach((hyper, gi) => Object.assign(this.paramGroups[gi]!, structuredClone(hyper)));
    this.baseLr = sd.baseLr;
  }

  /** Frees the optimiser's state tensors (not the parameters). */
  dispose(): void {
    for (const st of this.state.values()) for (const b of Object.values(st.buffers)) b.dispose();
    this.state.clear();
  }
}

// ------------------------------------------------------------------ SGD

export interface SGDOptions extends BaseOptions {
  momentum: number;
  dampening: number;
  nesterov: boolean;
}

/** torch.optim.SGD: weight decay added to the gradient (L2), optional (Nesterov) momentum. */
export class SGD extends Optimizer<SGDOptions> {
  protected readonly bufferNames: readonly string[];

  constructor(params: Iterable<Tensor> | ParamGroupSpec<SGDOptions>[], opts: Partial<SGDOptions> & { lr: number }) {
    super(params, { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, ...opts });
    // Momentum buffers exist only if some group uses momentum.
    this.bufferNames = this.paramGroups.some((g) => g.momentum !== 0) ? ['momentum_buffer'] : [];
  }

  protected override validate(g: ParamGroup<SGDOptions>, gi: number): void {
    super.validate(g, gi);
    if (!(g.momentum >= 0)) throw new Error(`SGD: group ${gi}: momentum must be >= 0, got ${g.momentum}`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new Error(`SGD: group ${gi}: Nesterov momentum needs momentum > 0 and dampening 0`);
  }

  protected initState(p: Tensor): Record<string, Tensor> {
    return this.bufferNames.length ? { momentum_buffer: Tensor.empty(p.shape) } : {};
  }

  protected update(p: Tensor, g: Tensor, group: ParamGroup<SGDOptions>, st: ParamState): void {
    const buf = st.buffers.momentum_buffer;
    sgdUpdate_(p, g, group.momentum !== 0 && buf !== undefined ? buf : null, {
      lr: group.lr, weightDecay: group.weightDecay, momentum: group.momentum, dampening: group.dampening,
      nesterov: group.nesterov, firstStep: st.step === 1,
    });
  }
}

// ------------------------------------------------------------------ AdamW

export interface AdamWOptions extends BaseOptions {
  betas: [number, number];
  eps: number;
}

/** torch.optim.AdamW: Adam with decoupled weight decay (p ← p·(1 − lr·wd) before the Adam step). */
export class AdamW extends Optimizer<AdamWOptions> {
  protected readonly bufferNames = ['exp_avg', 'exp_avg_sq'] as const;

  constructor(params: Iterable<Tensor> | ParamGroupSpec<AdamWOptions>[], opts: Partial<AdamWOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, ...opts });
  }

  protected override validate(g: ParamGroup<AdamWOptions>, gi: number): void {
    super.validate(g, gi);
    const [b1, b2] = g.betas;
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new Error(`AdamW: group ${gi}: betas must be in [0, 1), got [${g.betas}]`);
    if (!(g.eps >= 0)) throw new Error(`AdamW: group ${gi}: eps must be >= 0, got ${g.eps}`);
  }

  protected initState(p: Tensor): Record<string, Tensor> {
    const zeros = () => p.zerosLike();
    return { exp_avg: zeros(), exp_avg_sq: zeros() };
  }

  protected update(p: Tensor, g: Tensor, group: ParamGroup<AdamWOptions>, st: ParamState): void {
    const [beta1, beta2] = group.betas;
    adamwUpdate_(p, g, st.buffers.exp_avg!, st.buffers.exp_avg_sq!, { lr: group.lr, beta1, beta2, eps: group.eps, weightDecay: group.weightDecay, step: st.step });
  }
}

// ------------------------------------------------------------------ state ↔ safetensors

/**
 * Flattens an optimiser state into tensors and string metadata for a safetensors checkpoint:
 * `${prefix}state.{i}.{buffer}` tensors (PyTorch's buffer names) and one JSON metadata entry.
 */
export function stateToTensors(sd: OptimizerState, prefix = 'optimizer.'): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const tensors: Record<string, Tensor> = {};
  const steps: Record<string, number> = {};
  for (const [i, s] of Object.entries(sd.state)) {
    steps[i] = s.step;
    for (const [b, t] of Object.entries(s.buffers)) tensors[`${prefix}state.${i}.${b}`] = t;
  }
  const json = JSON.stringify({ steps, paramGroups: sd.paramGroups, baseLr: sd.baseLr });
  return { tensors, metadata: { [`${prefix}json`]: json } };
}

/** The inverse of `stateToTensors` (tensors not under `prefix` are ignored). */
export function stateFromTensors(tensors: Record<string, Tensor>, metadata: Record<string, string>, prefix = 'optimizer.'): OptimizerState {
  const raw = metadata[`${prefix}json`];
  if (raw === undefined) throw new Error(`optimizer state: metadata has no "${prefix}json" entry (not an optimiser checkpoint?)`);
  let parsed: { steps: Record<string, number>; paramGroups: OptimizerState['paramGroups']; baseLr: number };
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new Error(`optimizer state: "${prefix}json" is not valid JSON (${(e as Error).message})`);
  }
  if (!parsed || typeof parsed.steps !== 'object' || !Array.isArray(parsed.paramGroups)) {
    throw new Error(`optimizer state: "${prefix}json" lacks steps or paramGroups`);
  }
  const state: OptimizerState['state'] = {};
  for (const [i, step] of Object.entries(parsed.steps)) state[Number(i)] = { step, buffers: {} };
  for (const [k, t] of Object.entries(tensors)) {
    if (!k.startsWith(`${prefix}state.`)) continue;
    const m = /^(\d+)\.(.+)$/.exec(k.slice(prefix.length + 'state.'.length));
    if (!m) throw new Error(`optimizer state: cannot parse tensor key "${k}"`);
    const s = state[Number(m[1])];
    if (!s) throw new Error(`optimizer state: tensor "${k}" has no step count in the metadata`);
    s.buffers[m[2]!] = t;
  }
  return { state, paramGroups: parsed.paramGroups, baseLr: parsed.baseLr };
}
