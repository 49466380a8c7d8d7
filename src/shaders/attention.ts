// Fused masked attention (METHOD.md): a_ij = m_j·exp(s_ij) / Σ_k m_k·exp(s_ik), s = q·k·scale,
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
// the scale and the mask flag are meta words, so new batch sizes or token counts reuse pipelines.
import { META_WGSL, type Kernel } from '../tensor/runtime.js';

// Meta: [B, H, Tq, Tk, scale (f32 bits), hasMask]
export const ATTN_META = { B: 0, H: 1, Tq: 2, Tk: 3, scale: 4, hasMask: 5 } as const;

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

const NEG_BIG = '-3.4028234663852886e38';

const COMMON = (D: number, TILE: number) => `${META_WGSL}
const D: u32 = ${D}u;
const TILE: u32 = ${TILE}u;
fn mask_at(b: u32, j: u32) -> f32 {
  if (M(5u) == 0u) { return 1.0; }
  return Mask[b * M(3u) + j];
}`;

/** Forward: one invocation per query row; key/value tiles staged in workgroup memory. */
export function attentionForwardKernel(D: number, TILE: number): Kernel {
  return {
    key: `attn_fwd_d${D}_t${TILE}`,
    access: ['read', 'read', 'read', 'read', 'read_write', 'read_write'],
    wgsl: () => `${COMMON(D, TILE)}
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read> Mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> O: array<f32>;
@group(0) @binding(6) var<storage, read_write> LSE: array<f32>;
var<workgroup> kt: array<f32, ${TILE * D}>;
var<workgroup> vt: array<f32, ${TILE * D}>;
var<workgroup> mt: array<f32, ${TILE}>;

@compute @workgroup_size(${TILE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let H = M(1u); let Tq = M(2u); let Tk = M(3u); let scale = Mf(4u);
  let bh = wid.y;
  let b = bh / H;
  let i = wid.x * TILE + lid;
  let in_range = i < Tq;
  let qbase = (bh * Tq + min(i, Tq - 1u)) * D;
  var q: array<f32, ${D}>;
  for (var d = 0u; d < D; d++) { q[d] = Q[qbase + d] * scale; }
  var acc: array<f32, ${D}>;
  var mx = ${NEG_BIG};
  var l = 0.0;
  for (var start = 0u; start < Tk; start += TILE) {
    // Stage a tile of keys, values and mask entries; rows past Tk get mask 0.
    let j = start + lid;
    let mj = select(0.0, mask_at(b, min(j, Tk - 1u)), j < Tk);
    mt[lid] = mj;
    let kbase = (bh * Tk + min(j, Tk - 1u)) * D;
    for (var d = 0u; d < D; d++) {
      kt[lid * D + d] = K[kbase + d];
      vt[lid * D + d] = V[kbase + d];
    }
    workgroupBarrier();
    if (in_range) {
      let n = min(TILE, Tk - start);
      for (var jj = 0u; jj < n; jj++) {
        let m = mt[jj];
        if (m == 0.0) { continue; }
        var s = 0.0;
        for (var d = 0u; d < D; d++) { s += q[d] * kt[jj * D + d]; }
        if (s > mx) {
          let c = exp(mx - s);
          l *= c;
          for (var d = 0u; d < D; d++) { acc[d] *= c; }
          mx = s;
        }
        let p = m * exp(s - mx);
        l += p;
        for (var d = 0u; d < D; d++) { acc[d] += p * vt[jj * D + d]; }
      }
    }
    workgroupBarrier();
  }
  if (in_range) {
    // A row whose keys are all masked attends to nothing: output 0, lse = -inf (as NEG_BIG).
    let inv = select(0.0, 1.0 / l, l > 0.0);
    for (var d = 0u; d < D; d++) { O[qbase + d] = acc[d] * inv; }
    LSE[bh * Tq + i] = select(${NEG_BIG}, mx + log(l), l > 0.0);
  }
}`,
  };
}

/**
 * Backward, part 1: one invocation per query row. Writes dQ and Drow_i = dO_i·O_i (needed by
 * part 2).
 */
export function attentionBackwardQueryKernel(D: number, TILE: number): Kernel {
  return {
    key: `attn_bwd_q_d${D}_t${TILE}`,
    access: ['read', 'read', 'read', 'read', 'read', 'read', 'read', 'read_write', 'read_write'],
    wgsl: () => `${COMMON(D, TILE)}
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read> Mask: array<f32>;
@group(0) @binding(5) var<storage, read> O: array<f32>;
@group(0) @binding(6) var<storage, read> LSE: array<f32>;
@group(0) @binding(7) var<storage, read> DO: array<f32>;
@group(0) @binding(8) var<storage, read_write> DQ: array<f32>;
@group(0) @binding(9) var<storage, read_write> DROW: array<f32>;
var<workgroup> kt: array<f32, ${TILE * D}>;
var<workgroup> vt: array<f32, ${TILE * D}>;
var<workgroup> mt: array<f32, ${TILE}>;

@compute @workgroup_size(${TILE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let H = M(1u); let Tq = M(2u); let Tk = M(3u); let scale = Mf(4u);
  let bh = wid.y;
  let b = bh / H;
  let i = wid.x * TILE + lid;
  let in_range = i < Tq;
  let ii = min(i, Tq - 1u);
  let qbase = (bh * Tq + ii) * D;
  var q: array<f32, ${D}>;
  var dout: array<f32, ${D}>;
  var drow = 0.0;
  for (var d = 0u; d < D; d++) {
    q[d] = Q[qbase + d] * scale;
    dout[d] = DO[qbase + d];
    drow += dout[d] * O[qbase + d];
  }
  let lse = LSE[bh * Tq + ii];
  var dq: array<f32, ${D}>;
  for (var start = 0u; start < Tk; start += TILE) {
    let j = start + lid;
    mt[lid] = select(0.0, mask_at(b, min(j, Tk - 1u)), j < Tk);
    let kbase = (bh * Tk + min(j, Tk - 1u)) * D;
    for (var d = 0u; d < D; d++) {
      kt[lid * D + d] = K[kbase + d];
      vt[lid * D + d] = V[kbase + d];
    }
    workgroupBarrier();
    if (in_range) {
      let n = min(TILE, Tk - start);
      for (var jj = 0u; jj < n; jj++) {
        let m = mt[jj];
        if (m == 0.0) { continue; }
        var s = 0.0;
        var da = 0.0;
        for (var d = 0u; d < D; d++) {
          s += q[d] * kt[jj * D + d];
          da += dout[d] * vt[jj * D + d];
        }
        let ds = m * exp(s - lse) * (da - drow);
        for (var d = 0u; d < D; d++) { dq[d] += ds * kt[jj * D + d]; }
      }
    }
    workgroupBarrier();
  }
  if (in_range) {
    for (var d = 0u; d < D; d++) { DQ[qbase + d] = dq[d] * scale; }
    DROW[bh * Tq + i] = drow;
  }
}`,
  };
}

/**
 * Backward, part 2: one invocation per key row. Writes dK, dV and this head's share of the mask
 * gradient, dM[b, h, j] = Σ_i exp(s_ij − lse_i)·(dO_i·v_j − D_i) (summed over heads afterwards).
 */
export function attentionBackwardKeyKernel(D: number, TILE: number): Kernel {
  return {
    key: `attn_bwd_kv_d${D}_t${TILE}`,
    access: ['read', 'read', 'read', 'read', 'read', 'read', 'read', 'read_write', 'read_write', 'read_write'],
    wgsl: () => `${COMMON(D, TILE)}
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read> Mask: array<f32>;
@group(0) @binding(5) var<storage, read> LSE: array<f32>;
@group(0) @binding(6) var<storage, read> DROW: array<f32>;
@group(0) @binding(7) var<storage, read> DO: array<f32>;
@group(0) @binding(8) var<storage, read_write> DK: array<f32>;
@group(0) @binding(9) var<storage, read_write> DV: array<f32>;
@group(0) @binding(10) var<storage, read_write> DM: array<f32>;
var<workgroup> qt: array<f32, ${TILE * D}>;
var<workgroup> dot_: array<f32, ${TILE * D}>;
var<workgroup> lt: array<f32, ${TILE}>;
var<workgroup> rt: array<f32, ${TILE}>;

@compute @workgroup_size(${TILE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let H = M(1u); let Tq = M(2u); let Tk = M(3u); let scale = Mf(4u);
  let bh = wid.y;
  let b = bh / H;
  let j = wid.x * TILE + lid;
  let in_range = j < Tk;
  let jj = min(j, Tk - 1u);
  let kbase = (bh * Tk + jj) * D;
  var k: array<f32, ${D}>;
  var v: array<f32, ${D}>;
  for (var d = 0u; d < D; d++) { k[d] = K[kbase + d] * scale; v[d] = V[kbase + d]; }
  let m = mask_at(b, jj);
  var dk: array<f32, ${D}>;
  var dv: array<f32, ${D}>;
  var dm = 0.0;
  for (var start = 0u; start < Tq; start += TILE) {
    let i = start + lid;
    let ii = min(i, Tq - 1u);
    let qbase = (bh * Tq + ii) * D;
    for (var d = 0u; d < D; d++) {
      qt[lid * D + d] = Q[qbase + d];
      dot_[lid * D + d] = DO[qbase + d];
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
        var s = 0.0;
        var da = 0.0;
        for (var d = 0u; d < D; d++) {
          s += qt[r * D + d] * k[d];
          da += dot_[r * D + d] * v[d];
        }
        let e = exp(s - lse);
        let g = e * (da - rt[r]);
        dm += g;
        let a = m * e;
        let ds = m * g;
        for (var d = 0u; d < D; d++) {
          dk[d] += ds * qt[r * D + d];
          dv[d] += a * dot_[r * D + d];
        }
      }
    }
    workgroupBarrier();
  }
  if (in_range) {
    for (var d = 0u; d < D; d++) { DK[kbase + d] = dk[d] * scale; DV[kbase + d] = dv[d]; }
    DM[bh * Tk + j] = dm;
  }
}`,
  };
}
