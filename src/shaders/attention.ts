// Fused masked attention (docs/methods.md): a_ij = m_j·exp(s_ij) / Σ_k m_k·exp(s_ik), s = q·k·scale,
// out = a·v — forward with an online softmax (no T×T matrix in memory) and a FlashAttention-2
// style backward that also produces ∂L/∂m, finite where m_j = 0:
//   ∂L/∂m_j = Σ_i exp(s_ij − lse_i) · (dO_i·v_j − D_i),   D_i = dO_i·O_i,
// where lse_i = log Σ_k m_k·exp(s_ik) is saved by the forward pass.
//
// Keys with m_j == 0 are skipped outright in the forward pass (they never enter the running max),
// so changing q/k/v at masked positions cannot change a single output bit.
//
// Layout: q [B, H, Tq, D], k and v [B, H, Tk, D], mask [B, Tk]; all contiguous.
// The head size D is a compile-time constant (it sizes the per-row accumulators); B, H, Tq, Tk,
// the scale and the mask flag are uniforms, so new batch sizes or token counts reuse pipelines.
import { F32_MAX, uniforms, type Kernel } from './kernel.js';

const ATTENTION = uniforms({ B: 'u32', H: 'u32', Tq: 'u32', Tk: 'u32', scale: 'f32', hasMask: 'u32' });
export type AttentionUniforms = typeof ATTENTION.spec;

/**
 * Rows per workgroup (= key/query tile length staged in workgroup memory): the largest power of
 * two up to 64 for which two D-wide tiles fit the device's workgroup storage (WebGPU guarantees
 * 16 KiB; lavapipe and most GPUs give 32 KiB or more).
 */
export function attentionTile(D: number, workgroupStorageBytes: number): number {
  let t = 64;
  while (t > 4 && 2 * t * D * 4 + 4 * t * 4 > workgroupStorageBytes) t >>= 1;
  return t;
}

const NEG_BIG = `-${F32_MAX}`;

/**
 * Code is generated per head size: a row of D floats is handled as W-wide lanes (vec4 when
 * D % 4 == 0, else scalars), and every loop over the row is unrolled in the source so the
 * per-row accumulators are registers, not arrays indexed at run time.
 */
interface Lanes {
  W: number;
  /** Lanes per row. */
  L: number;
  T: string;
  dot: (a: string, b: string) => string;
  zero: string;
  unroll: (f: (c: number) => string) => string;
}

function lanes(D: number): Lanes {
  const W = D % 4 === 0 ? 4 : 1;
  const L = D / W;
  const T = W === 4 ? 'vec4<f32>' : 'f32';
  return {
    W, L, T,
    dot: (a, b) => (W === 4 ? `dot(${a}, ${b})` : `(${a} * ${b})`),
    zero: W === 4 ? 'vec4<f32>(0.0)' : '0.0',
    unroll: (f) => Array.from({ length: L }, (_, c) => f(c)).join('\n    '),
  };
}

const COMMON = (D: number, TILE: number, l: Lanes) => `
const D: u32 = ${D}u;
const L: u32 = ${l.L}u; // lanes per row
const TILE: u32 = ${TILE}u;
fn mask_at(b: u32, j: u32) -> f32 {
  if (params.hasMask == 0u) { return 1.0; }
  return Mask[b * params.Tk + j];
}`;

/** Forward: one invocation per query row; key/value tiles staged in workgroup memory. */
export function attentionForwardKernel(D: number, TILE: number): Kernel<AttentionUniforms> {
  const l = lanes(D);
  const T = l.T;
  return {
    key: `attn_fwd_d${D}_t${TILE}`,
    uniforms: ATTENTION,
    access: ['read', 'read', 'read', 'read', 'read_write', 'read_write'],
    wgsl: () => `${COMMON(D, TILE, l)}
@group(0) @binding(1) var<storage, read> Q: array<${T}>;
@group(0) @binding(2) var<storage, read> K: array<${T}>;
@group(0) @binding(3) var<storage, read> V: array<${T}>;
@group(0) @binding(4) var<storage, read> Mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> O: array<${T}>;
@group(0) @binding(6) var<storage, read_write> LSE: array<f32>;
var<workgroup> kt: array<${T}, ${TILE * l.L}>;
var<workgroup> vt: array<${T}, ${TILE * l.L}>;
var<workgroup> mt: array<f32, ${TILE}>;

@compute @workgroup_size(${TILE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let H = params.H; let Tq = params.Tq; let Tk = params.Tk; let scale = params.scale;
  let bh = wid.y;
  let b = bh / H;
  let i = wid.x * TILE + lid;
  let in_range = i < Tq;
  let qbase = (bh * Tq + min(i, Tq - 1u)) * L;
  ${l.unroll((c) => `let q${c} = Q[qbase + ${c}u] * scale;`)}
  ${l.unroll((c) => `var acc${c} = ${l.zero};`)}
  var mx = ${NEG_BIG};
  var lsum = 0.0;
  for (var start = 0u; start < Tk; start += TILE) {
    // Stage a tile of keys, values and mask entries; rows past Tk get mask 0.
    let j = start + lid;
    mt[lid] = select(0.0, mask_at(b, min(j, Tk - 1u)), j < Tk);
    let kbase = (bh * Tk + min(j, Tk - 1u)) * L;
    for (var c = 0u; c < L; c++) {
      kt[lid * L + c] = K[kbase + c];
      vt[lid * L + c] = V[kbase + c];
    }
    workgroupBarrier();
    if (in_range) {
      let n = min(TILE, Tk - start);
      for (var jj = 0u; jj < n; jj++) {
        let m = mt[jj];
        if (m == 0.0) { continue; }
        let r = jj * L;
        let s = ${Array.from({ length: l.L }, (_, c) => l.dot(`q${c}`, `kt[r + ${c}u]`)).join(' + ')};
        if (s > mx) {
          let corr = exp(mx - s);
          lsum *= corr;
          ${l.unroll((c) => `acc${c} *= corr;`)}
          mx = s;
        }
        let p = m * exp(s - mx);
        lsum += p;
        ${l.unroll((c) => `acc${c} += p * vt[r + ${c}u];`)}
      }
    }
    workgroupBarrier();
  }
  if (in_range) {
    // A row whose keys are all masked attends to nothing: output 0, lse = -inf (as NEG_BIG).
    let inv = select(0.0, 1.0 / lsum, lsum > 0.0);
    ${l.unroll((c) => `O[qbase + ${c}u] = acc${c} * inv;`)}
    LSE[bh * Tq + i] = select(${NEG_BIG}, mx + log(lsum), lsum > 0.0);
  }
}`,
  };
}

/**
 * Backward, part 1: one invocation per query row. Writes dQ and Drow_i = dO_i·O_i (needed by
 * part 2).
 */
export function attentionBackwardQueryKernel(D: number, TILE: number): Kernel<AttentionUniforms> {
  const l = lanes(D);
  const T = l.T;
  return {
    key: `attn_bwd_q_d${D}_t${TILE}`,
    uniforms: ATTENTION,
    access: ['read', 'read', 'read', 'read', 'read', 'read', 'read', 'read_write', 'read_write'],
    wgsl: () => `${COMMON(D, TILE, l)}
@group(0) @binding(1) var<storage, read> Q: array<${T}>;
@group(0) @binding(2) var<storage, read> K: array<${T}>;
@group(0) @binding(3) var<storage, read> V: array<${T}>;
@group(0) @binding(4) var<storage, read> Mask: array<f32>;
@group(0) @binding(5) var<storage, read> O: array<${T}>;
@group(0) @binding(6) var<storage, read> LSE: array<f32>;
@group(0) @binding(7) var<storage, read> DO: array<${T}>;
@group(0) @binding(8) var<storage, read_write> DQ: array<${T}>;
@group(0) @binding(9) var<storage, read_write> DROW: array<f32>;
var<workgroup> kt: array<${T}, ${TILE * l.L}>;
var<workgroup> vt: array<${T}, ${TILE * l.L}>;
var<workgroup> mt: array<f32, ${TILE}>;

@compute @workgroup_size(${TILE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let H = params.H; let Tq = params.Tq; let Tk = params.Tk; let scale = params.scale;
  let bh = wid.y;
  let b = bh / H;
  let i = wid.x * TILE + lid;
  let in_range = i < Tq;
  let ii = min(i, Tq - 1u);
  let qbase = (bh * Tq + ii) * L;
  ${l.unroll((c) => `let q${c} = Q[qbase + ${c}u] * scale;`)}
  ${l.unroll((c) => `let do${c} = DO[qbase + ${c}u];`)}
  let drow = ${Array.from({ length: l.L }, (_, c) => l.dot(`do${c}`, `O[qbase + ${c}u]`)).join(' + ')};
  let lse = LSE[bh * Tq + ii];
  ${l.unroll((c) => `var dq${c} = ${l.zero};`)}
  for (var start = 0u; start < Tk; start += TILE) {
    let j = start + lid;
    mt[lid] = select(0.0, mask_at(b, min(j, Tk - 1u)), j < Tk);
    let kbase = (bh * Tk + min(j, Tk - 1u)) * L;
    for (var c = 0u; c < L; c++) {
      kt[lid * L + c] = K[kbase + c];
      vt[lid * L + c] = V[kbase + c];
    }
    workgroupBarrier();
    if (in_range) {
      let n = min(TILE, Tk - start);
      for (var jj = 0u; jj < n; jj++) {
        let m = mt[jj];
        if (m == 0.0) { continue; }
        let r = jj * L;
        let s = ${Array.from({ length: l.L }, (_, c) => l.dot(`q${c}`, `kt[r + ${c}u]`)).join(' + ')};
        let da = ${Array.from({ length: l.L }, (_, c) => l.dot(`do${c}`, `vt[r + ${c}u]`)).join(' + ')};
        let ds = m * exp(s - lse) * (da - drow);
        ${l.unroll((c) => `dq${c} += ds * kt[r + ${c}u];`)}
      }
    }
    workgroupBarrier();
  }
  if (in_range) {
    ${l.unroll((c) => `DQ[qbase + ${c}u] = dq${c} * scale;`)}
    DROW[bh * Tq + i] = drow;
  }
}`,
  };
}

/**
 * Backward, part 2: one invocation per key row. Writes dK, dV and this head's share of the mask
 * gradient, dM[b, h, j] = Σ_i exp(s_ij − lse_i)·(dO_i·v_j − D_i) (summed over heads afterwards).
 */
export function attentionBackwardKeyKernel(D: number, TILE: number): Kernel<AttentionUniforms> {
  const l = lanes(D);
  const T = l.T;
  return {
    key: `attn_bwd_kv_d${D}_t${TILE}`,
    uniforms: ATTENTION,
    access: ['read', 'read', 'read', 'read', 'read', 'read', 'read', 'read_write', 'read_write', 'read_write'],
    wgsl: () => `${COMMON(D, TILE, l)}
@group(0) @binding(1) var<storage, read> Q: array<${T}>;
@group(0) @binding(2) var<storage, read> K: array<${T}>;
@group(0) @binding(3) var<storage, read> V: array<${T}>;
@group(0) @binding(4) var<storage, read> Mask: array<f32>;
@group(0) @binding(5) var<storage, read> LSE: array<f32>;
@group(0) @binding(6) var<storage, read> DROW: array<f32>;
@group(0) @binding(7) var<storage, read> DO: array<${T}>;
@group(0) @binding(8) var<storage, read_write> DK: array<${T}>;
@group(0) @binding(9) var<storage, read_write> DV: array<${T}>;
@group(0) @binding(10) var<storage, read_write> DM: array<f32>;
var<workgroup> qt: array<${T}, ${TILE * l.L}>;
var<workgroup> dot_: array<${T}, ${TILE * l.L}>;
var<workgroup> lt: array<f32, ${TILE}>;
var<workgroup> rt: array<f32, ${TILE}>;

@compute @workgroup_size(${TILE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let H = params.H; let Tq = params.Tq; let Tk = params.Tk; let scale = params.scale;
  let bh = wid.y;
  let b = bh / H;
  let j = wid.x * TILE + lid;
  let in_range = j < Tk;
  let jj = min(j, Tk - 1u);
  let kbase = (bh * Tk + jj) * L;
  ${l.unroll((c) => `let k${c} = K[kbase + ${c}u] * scale;`)}
  ${l.unroll((c) => `let v${c} = V[kbase + ${c}u];`)}
  let m = mask_at(b, jj);
  ${l.unroll((c) => `var dk${c} = ${l.zero};`)}
  ${l.unroll((c) => `var dv${c} = ${l.zero};`)}
  var dm = 0.0;
  for (var start = 0u; start < Tq; start += TILE) {
    let i = start + lid;
    let ii = min(i, Tq - 1u);
    let qbase = (bh * Tq + ii) * L;
    for (var c = 0u; c < L; c++) {
      qt[lid * L + c] = Q[qbase + c];
      dot_[lid * L + c] = DO[qbase + c];
    }
    lt[lid] = LSE[bh * Tq + ii];
    rt[lid] = DROW[bh * Tq + ii];
    workgroupBarrier();
    if (in_range) {
      let n = min(TILE, Tq - start);
      for (var r = 0u; r < n; r++) {
        let lse = lt[r];
        // Rows that attend to nothing (all keys masked) carry no gradient.
        if (lse == ${NEG_BIG}) { continue; }
        let o = r * L;
        let s = ${Array.from({ length: l.L }, (_, c) => l.dot(`qt[o + ${c}u]`, `k${c}`)).join(' + ')};
        let da = ${Array.from({ length: l.L }, (_, c) => l.dot(`dot_[o + ${c}u]`, `v${c}`)).join(' + ')};
        let e = exp(s - lse);
        let g = e * (da - rt[r]);
        dm += g;
        let a = m * e;
        let ds = m * g;
        ${l.unroll((c) => `dk${c} += ds * qt[o + ${c}u];`)}
        ${l.unroll((c) => `dv${c} += a * dot_[o + ${c}u];`)}
      }
    }
    workgroupBarrier();
  }
  if (in_range) {
    ${l.unroll((c) => `DK[kbase + ${c}u] = dk${c} * scale;`)}
    ${l.unroll((c) => `DV[kbase + ${c}u] = dv${c};`)}
    DM[bh * Tk + j] = dm;
  }
}`,
  };
}
