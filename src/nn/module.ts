// nn.Module: parameters and submodules registered by name, so every weight has a stable dotted
// timm-style name (`blocks.0.attn.qkv.weight`) for state dicts, safetensors and optimiser groups.
//
// Registration is explicit — `this.weight = this.param('weight', t)`, `this.fc1 =
// this.module('fc1', new Linear(...))` — rather than discovered from properties: the order is
// the registration order (stable, the same as timm's when written in the same order), a tensor
// property that is not a parameter (a cached mask, say) is never mistaken for one, and names
// need not equal property names (arrays of blocks become `blocks.0`, `blocks.1`, … via ModuleList).
import { Tensor } from '../tensor/tensor.js';
import { fmt, sameShape } from '../tensor/shape.js';
import { copyInto_ } from '../tensor/ops/movement.js';

/** Anything with a one-tensor forward (what Sequential chains). */
export interface Layer {
  forward(x: Tensor): Tensor;
}

export interface LoadResult {
  /** Keys the module has and the dict lacked (non-strict loads only). */
  missing: string[];
  /** Keys the dict has that the module does not (non-strict loads only). */
  unexpected: string[];
}

function checkName(kind: string, name: string): void {
  if (typeof name !== 'string' || name === '' || name.includes('.')) {
    throw new Error(`Module.${kind}: name ${JSON.stringify(name)} must be a non-empty string without dots`);
  }
}

export class Module {
  /** True in training mode (Dropout active); set with train() / eval(). */
  training = true;
  private readonly ownParams = new Map<string, Tensor>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly children_ = new Map<string, Module>();

  /**
   * Registers a trainable parameter under `name` and returns it. The tensor is marked
   * requiresGrad and kept out of tidy scopes (the module owns it until `dispose()`).
   * Registering a name again replaces the entry (the old tensor is not disposed).
   */
  param(name: string, t: Tensor): Tensor {
    checkName('param', name);
    if (!(t instanceof Tensor)) throw new Error(`Module.param: "${name}" must be a Tensor`);
    if (this.children_.has(name) || this.ownBuffers.has(name)) throw new Error(`Module.param: "${name}" is already a submodule or buffer`);
    t.requiresGrad = true;
    t.keep();
    this.ownParams.set(name, t);
    return t;
  }

  /** Registers a non-trainable tensor that belongs in the state dict (kept out of tidy scopes). */
  buffer(name: string, t: Tensor): Tensor {
    checkName('buffer', name);
    if (!(t instanceof Tensor)) throw new Error(`Module.buffer: "${name}" must be a Tensor`);
    if (this.children_.has(name) || this.ownParams.has(name)) throw new Error(`Module.buffer: "${name}" is already a submodule or parameter`);
    t.keep();
    this.ownBuffers.set(name, t);
    return t;
  }

  /** Registers a submodule under `name` and returns it. */
  module<M extends Module>(name: string, m: M): M {
    checkName('module', name);
    if (!(m instanceof Module)) throw new Error(`Module.module: "${name}" must be a Module`);
    if (this.ownParams.has(name) || this.ownBuffers.has(name)) throw new Error(`Module.module: "${name}" is already a parameter or buffer`);
    if ((m as Module) === this) throw new Error(`Module.module: "${name}" cannot be the module itself`);
    this.children_.set(name, m);
    return m;
  }

  /** Direct submodules with their names, in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.children_];
  }

  /** This module and every descendant, depth-first, each once, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const walk = (m: Module, p: string) => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([p, m]);
      for (const [n, c] of m.children_) walk(c, p ? `${p}.${n}` : n);
    };
    walk(this, prefix);
    return out;
  }

  /**
   * Every parameter with its dotted name, in registration order; a tensor shared by two modules
   * appears once, under its first name. Also sets each tensor's `name` to it (GPU error labels).
   */
  namedParameters(): [string, Tensor][] {
    return this.collect('params');
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(): [string, Tensor][] {
    return this.collect('buffers');
  }

  /** Total number of parameter elements. */
  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  private collect(which: 'params' | 'buffers'): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [p, m] of this.namedModules()) {
      for (const [n, t] of which === 'params' ? m.ownParams : m.ownBuffers) {
        if (seen.has(t)) continue;
        seen.add(t);
        const full = p ? `${p}.${n}` : n;
        if (which === 'params') t.name = full;
        out.push([full, t]);
      }
    }
    return out;
  }

  /** Parameters and buffers by dotted name. The tensors are the module's own (do not dispose them). */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [n, t] of [...this.namedParameters(), ...this.namedBuffers()]) out[n] = t;
    return out;
  }

  /**
   * Copies values from `dict` into the module's tensors in place (so optimisers holding them stay
   * valid). Everything is checked before anything is copied: shape mismatches are always an
   * error; with `strict` (default) missing and unexpected keys are too, all listed in one error.
   */
  loadStateDict(dict: Record<string, Tensor>, opts: { strict?: boolean } = {}): LoadResult {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const missing = Object.keys(own).filter((k) => !(k in dict));
    const unexpected = Object.keys(dict).filter((k) => !(k in own));
    const problems: string[] = [];
    for (const [k, dst] of Object.entries(own)) {
      const src = dict[k];
      if (src === undefined) continue;
      if (!(src instanceof Tensor)) problems.push(`  ${k}: not a Tensor`);
      else if (src.disposed) problems.push(`  ${k}: the given tensor was disposed`);
      else if (!sameShape(src.shape, dst.shape)) problems.push(`  ${k}: shape ${fmt(src.shape)} in the dict, ${fmt(dst.shape)} in the module`);
    }
    if (strict) {
      for (const k of missing) problems.push(`  missing key ${k} (shape ${fmt(own[k]!.shape)})`);
      for (const k of unexpected) problems.push(`  unexpected key ${k}`);
    }
    if (problems.length) {
      throw new Error(`loadStateDict (${this.constructor.name}): ${problems.length} problem${problems.length > 1 ? 's' : ''}, nothing was loaded:\n${problems.join('\n')}`);
    }
    for (const [k, dst] of Object.entries(own)) {
      const src = dict[k];
      if (src && src.buffer !== dst.buffer) copyInto_(dst, src);
    }
    return { missing, unexpected };
  }

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Drops every parameter's gradient (PyTorch's set_to_none). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Calls `fn` on every module, depth-first (this one first). */
  apply(fn: (m: Module, name: string) => void): this {
    for (const [n, m] of this.namedModules()) fn(m, n);
    return this;
  }

  /** Frees every parameter, gradient and buffer. The module is unusable afterwards. */
  dispose(): void {
    for (const t of [...this.parameters(), ...this.namedBuffers().map(([, b]) => b)]) {
      t.zeroGrad();
      t.dispose();
    }
  }
}

/** An indexable list of submodules named `0`, `1`, … (timm's `blocks.{i}`). */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.push(m);
  }

  push(m: M): this {
    this.module(String(this.items.length), m);
    this.items.push(m);
    return this;
  }

  at(i: number): M {
    const m = this.items.at(i);
    if (!m) throw new Error(`ModuleList: index ${i} out of range for ${this.items.length} modules`);
    return m;
  }

  get length(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

/** Modules applied in order, named `0`, `1`, … like torch.nn.Sequential. */
export class Sequential extends ModuleList<Module & Layer> implements Layer {
  constructor(...modules: (Module & Layer)[]) {
    super(modules);
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this) y = m.forward(y);
    return y;
  }
}
