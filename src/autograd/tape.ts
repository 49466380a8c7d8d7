// Reverse-mode autograd. Each op that runs with gradients on records, on its output tensor, the
// inputs and a closure saying how the output's gradient flows back to them (see `record`).
// `backward()` and `grad()` walk that graph in reverse topological order. Backward rules run
// with recording off, so gradients are constants (no second-order graph).
import type { Tensor } from '../tensor/tensor.js';
import type { OpName } from '../tensor/ops/names.js';

export type BackwardFn = (g: Tensor) => (Tensor | null | undefined)[];

export interface GradNode {
  op: OpName;
  inputs: Tensor[];
  backward: BackwardFn;
}

let enabled = true;

/** Runs `fn` without recording anything for autograd. */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/** Runs `fn` with recording on (inside a noGrad, for example). */
export function enableGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = true;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

export function isGradEnabled(): boolean {
  return enabled;
}

/** Attaches a backward rule to `out` if gradients are on and any input needs one. */
export function record(out: Tensor, op: OpName, inputs: Tensor[], backward: BackwardFn): Tensor {
  if (!enabled) return out;
  if (!inputs.some((t) => t.requiresGrad)) return out;
  out.requiresGrad = true;
  out.node = { op, inputs, backward };
  return out;
}

function topoOrder(roots: Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: ViT graphs are deep enough to overflow a recursive one in browsers.
  const stack: [Tensor, number][] = [];
  for (const r of roots) {
    if (seen.has(r)) continue;
    seen.add(r);
    stack.push([r, 0]);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [t, i] = top;
      const inputs = t.node?.inputs ?? [];
      if (i < inputs.length) {
        top[1]++;
        const c = inputs[i]!;
        if (c.requiresGrad && c.disposed) {
          // Silently skipping it would give wrong (missing) gradients.
          throw new Error(`backward: an input of ${t.node!.op} (shape [${c.shape}]) was disposed — by dispose() or an enclosing tidy() — before backward ran; call backward() inside the same tidy()`);
        }
        if (c.requiresGrad && !seen.has(c)) {
          seen.add(c);
          stack.push([c, 0]);
        }
      } else {
        stack.pop();
        order.push(t);
      }
    }
  }
  return order.reverse(); // outputs first
}

export interface GradOptions {
  /** Keep the graph so it can be walked again (default false). */
  retainGraph?: boolean;
  /** Seed gradients for the outputs (default: ones, allowed only for one-element outputs, as in PyTorch). */
  gradOutputs?: (Tensor | null)[];
}

/** Propagates gradients from `outputs`; calls `visit(tensor, grad)` for every tensor reached. */
function propagate(
  outputs: Tensor[],
  seeds: Tensor[],
  retainGraph: boolean,
  visit: (t: Tensor, g: Tensor) => void,
): void {
  const order = topoOrder(outputs);
  const grads = new Map<Tensor, Tensor>();
  const accumulate = (t: Tensor, g: Tensor) => {
    const prev = grads.get(t);
    if (prev) {
      grads.set(t, prev.add(g));
      prev.dispose();
      g.dispose();
    } else {
      grads.set(t, g);
    }
  };
  noGrad(() => {
    outputs.forEach((o, i) => accumulate(o, seeds[i]!));
    for (const t of order) {
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      visit(t, g);
      const node = t.node;
      if (node) {
        let gi: (Tensor | null | undefined)[];
        try {
          gi = node.backward(g);
        } catch (e) {
          (e as Error).message = `backward of ${node.op}: ${(e as Error).message}`;
          throw e;
        }
        node.inputs.forEach((inp, k) => {
          const gk = gi[k];
          if (!gk) return;
          if (!inp.requiresGrad) {
            gk.dispose();
            return;
          }
          if (gk.shape.length !== inp.shape.length || gk.shape.some((d, j) => d !== inp.shape[j])) {
            throw new Error(`webfam internal: backward of ${node.op} gave input ${k} a gradient of shape [${gk.shape}] for shape [${inp.shape}]`);
          }
          accumulate(inp, gk);
        });
      }
      g.dispose();
    }
  });
  if (!retainGraph) {
    for (const t of order) {
      if (t.node) t.graphFreed = true;
      t.node = null;
    }
  }
}

function checkGraph(outputs: Tensor[], who: string): void {
  for (const o of outputs) {
    if (o.graphFreed) {
      throw new Error(`${who}: the graph behind this tensor (shape [${o.shape}]) was freed by an earlier backward()/grad(); pass { retainGraph: true } to the first call to walk it again`);
    }
  }
}

function seedsFor(outputs: Tensor[], gradOutputs: (Tensor | null)[] | undefined, who: string): Tensor[] {
  // Every output is checked before any seed is made, so an error leaves nothing allocated.
  outputs.forEach((o, i) => {
    const given = gradOutputs?.[i];
    if (given) {
      if (given.shape.length !== o.shape.length || given.shape.some((d, j) => d !== o.shape[j])) {
        throw new Error(`${who}: gradient of shape [${given.shape}] given for an output of shape [${o.shape}]`);
      }
    } else if (o.size !== 1) {
      // PyTorch's rule: a gradient of ones is only implied for a one-element output. Seeding any
      // other shape with ones would silently differentiate its sum, which is rarely what was meant.
      throw new Error(`${who}: grad can be implicitly created only for scalar outputs, and this output has shape [${o.shape}]; reduce it first (.sum() or .mean()) or pass a gradient of shape [${o.shape}]`);
    }
  });
  return outputs.map((o, i) => gradOutputs?.[i]?.clone() ?? o.onesLike());
}

/**
 * `loss.backward()`: accumulates d(output)/d(leaf) into every leaf's `.grad`. A non-scalar output
 * needs `gradOutput` (the vector of the vector-Jacobian product), as in PyTorch.
 */
export function backward(output: Tensor, gradOutput?: Tensor, opts: { retainGraph?: boolean } = {}): void {
  if (!output.requiresGrad) {
    throw new Error(`backward: the tensor of shape [${output.shape}] does not require grad (no input had requiresGrad, or it was made under noGrad)`);
  }
  checkGraph([output], 'backward');
  const seeds = seedsFor([output], gradOutput ? [gradOutput] : undefined, 'backward');
  propagate([output], seeds, !!opts.retainGraph, (t, g) => {
    if (!t.node) {
      // A leaf: accumulate into .grad, which outlives any tidy scope.
      const prev = t.grad;
      // A gradient nothing else holds (no view, no pending reader) becomes .grad as it is; a
      // shared one is copied, so in-place updates of .grad (clipping) touch nothing else.
      t.grad = prev ? prev.add(g) : g.storage.refs === 1 ? g.view(g.shape) : g.clone();
      t.grad.keep();
      prev?.dispose();
    }
  });
}

/**
 * Gradients of `outputs` (one-element tensors, or any shape with `gradOutputs`, summed over the
 * outputs) with respect to `inputs`, which may be leaves or intermediate tensors. Does not touch
 * `.grad`. An input the outputs do not depend on gets zeros.
 */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor[], opts: GradOptions = {}): Tensor[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  for (const o of outs) {
    if (!o.requiresGrad) throw new Error(`grad: an output of shape [${o.shape}] does not require grad`);
  }
  checkGraph(outs, 'grad');
  const want = new Map<Tensor, Tensor | null>(inputs.map((t) => [t, null]));
  const seeds = seedsFor(outs, opts.gradOutputs, 'grad');
  propagate(outs, seeds, !!opts.retainGraph, (t, g) => {
    // A leaf's gradient nothing else holds is handed over as it is (as backward() does for .grad);
    // anything else is copied, since the node's own backward still reads it.
    if (want.has(t)) want.set(t, !t.node && g.storage.refs === 1 ? g.view(g.shape) : g.clone());
  });
  return inputs.map((t) => want.get(t) ?? t.zerosLike());
}
