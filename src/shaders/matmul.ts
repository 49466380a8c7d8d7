// WGSL generators for matmul: C = op(A)·op(B) (+ bias, activation) over broadcast batches, with
// the transposes read in place. Two kernels, picked per adapter by src/tensor/ops/matmul.ts:
//
//   tiled  — for GPUs. A workgroup of 16x16 invocations stages a BM x BK slab of A and a BK x BN
//            slab of B in workgroup memory, then every invocation accumulates a TM x TN block
//            of C in registers. The classic shared-memory GEMM.
//   simd   — for CPU adapters (lavapipe/llvmpipe, SwiftShader), where one subgroup is one SIMD
//            register (8 lanes on AVX2) and every storage load is split into per-lane scalar
//            loads with a bounds check (~10 instructions a lane, even when every lane reads the
//            same address), so loads, not FMAs, set the speed. Each lane loads a few vec4s (one
//            load for four values) and the subgroup shares A's rows with subgroupBroadcast,
//            which on a CPU is a register shuffle: ~25 GFLOP/s at 1024² on 2 cores, where the
//            tiled kernel manages ~2 and a register-tiled kernel without subgroups ~8.
//
// Tuning knobs, in jax-js's words:
//   upcast — outputs one invocation keeps in registers along M and N (TM x TN here; `rows` and
//            4·`colVec4s` in the simd kernel). Each loaded value feeds that many FMAs; too
//            many and the registers spill.
//   unroll — k steps per loop iteration (BK for the tiled kernel; 4 for the simd one, one vec4).
//   group  — invocations that cooperate on one tile (16x16 in the tiled kernel; one subgroup
//            in the simd kernel: eight subgroups per workgroup measured ~10% slower).
// Edges (M, N, K not multiples of the tile) are handled by clamping load indices (the extra
// lanes compute values nobody stores) and guarding the stores, or by zero-filled tile loads.
import { uniforms, type Kernel } from './kernel.js';
import { POINTWISE_HELPERS_WGSL, UNARY } from './pointwise.js';

export type MatmulActivation = 'none' | 'gelu' | 'geluTanh' | 'relu';

/** Batch dimensions the kernels index (broadcast batch shapes of higher rank are rejected). */
export const MAX_BATCH_RANK = 4;

// `zOffset` lets a batch of more than 65,535 matrices be split over several dispatches; the
// batch shape and the operands' batch strides are padded at the front to MAX_BATCH_RANK. The
// epilogue (bias, activation, saving the pre-activation) is chosen by uniforms rather than
// compiled in: one pipeline per layout instead of one per epilogue, and on lavapipe every
// pipeline costs ~1-2 s of LLVM compile time.
const MATMUL = uniforms({
  M: 'u32', N: 'u32', K: 'u32', zOffset: 'u32',
  batch: ['u32', MAX_BATCH_RANK], aBatchStrides: ['u32', MAX_BATCH_RANK], bBatchStrides: ['u32', MAX_BATCH_RANK],
  flags: 'u32', activation: 'u32',
});
export type MatmulUniforms = typeof MATMUL.spec;
/** Flag bits: add Bias; write the pre-activation to Z. */
export const MM_FLAG_BIAS = 1;
export const MM_FLAG_STORE_PRE = 2;
/** Activation codes for the `activation` uniform. */
export const MM_ACTIVATION_CODE: Record<MatmulActivation, number> = { none: 0, relu: 1, gelu: 2, geluTanh: 3 };

export interface MatmulLayout {
  transA: boolean;
  transB: boolean;
}

/** Tiling of the GPU kernel: 16x16 invocations, each computing TM x TN outputs. */
export interface TiledConfig {
  TM: number;
  TN: number;
  BK: number;
}
const TX = 16;
const TY = 16;

/** Tiling of the CPU/SIMD kernel: one subgroup of `lanes` computes rows x (lanes·4·colVec4s). */
export interface SimdConfig {
  lanes: number;
  rows: number;
  colVec4s: number;
}

/** Which operands the simd kernel reads as vec4 (their contiguous axis is a multiple of 4). */
export interface SimdVectors {
  vecA: boolean;
  vecB: boolean;
  /** C (and bias) rows are a multiple of 4 long: vec4 stores. */
  vecC: boolean;
}

// The activations use pointwise.ts's helpers and table expressions, so a fused activation
// computes exactly what the separate op does.
const EPILOGUE = /* wgsl */ `${POINTWISE_HELPERS_WGSL}
fn activate(x: f32) -> f32 {
  switch params.activation {
    case ${MM_ACTIVATION_CODE.relu}u: { return ${UNARY.relu.wgsl}; }
    case ${MM_ACTIVATION_CODE.gelu}u: { return ${UNARY.gelu.wgsl}; }
    case ${MM_ACTIVATION_CODE.geluTanh}u: { return ${UNARY.geluTanh.wgsl}; }
    default: { return x; }
  }
}
fn has_bias() -> bool { return (params.flags & ${MM_FLAG_BIAS}u) != 0u; }
fn store_pre() -> bool { return (params.flags & ${MM_FLAG_STORE_PRE}u) != 0u; }

/** Batch offsets of A and B for batch index bz (row-major over the 4 batch dims). */
fn batch_offsets(bz: u32) -> vec2<u32> {
  var rem = bz;
  var offA = 0u;
  var offB = 0u;
  for (var d = 0u; d < ${MAX_BATCH_RANK}u; d++) {
    let axis = ${MAX_BATCH_RANK - 1}u - d;
    let n = params_batch(axis);
    let idx = rem % n;
    rem = rem / n;
    offA += idx * params_aBatchStrides(axis);
    offB += idx * params_bBatchStrides(axis);
  }
  return vec2<u32>(offA, offB);
}`;

/** Bindings: A, B, Bias (a dummy when unused), C, Z (the pre-activation; a dummy when unused). */
function bindings(aType: string, bType: string, cType: string): string {
  return `@group(0) @binding(1) var<storage, read> A: ${aType};
@group(0) @binding(2) var<storage, read> B: ${bType};
@group(0) @binding(3) var<storage, read> Bias: ${cType};
@group(0) @binding(4) var<storage, read_write> C: ${cType};
@group(0) @binding(5) var<storage, read_write> Z: ${cType};`;
}
const ACCESS: Kernel['access'] = ['read', 'read', 'read', 'read_write', 'read_write'];

const layoutKey = (l: MatmulLayout) => `${l.transA ? 'T' : 'N'}${l.transB ? 'T' : 'N'}`;

// ------------------------------------------------------------------ GPU kernel (shared-memory tiles)

/** Workgroups of the tiled kernel: [N tiles, M tiles]. */
export function tiledGrid(c: TiledConfig, M: number, N: number): [number, number] {
  return [Math.ceil(N / (TX * c.TN)), Math.ceil(M / (TY * c.TM))];
}

export function tiledMatmulKernel(l: MatmulLayout, c: TiledConfig): Kernel<MatmulUniforms> {
  const { TM, TN, BK } = c;
  const BM = TY * TM, BN = TX * TN, NT = TX * TY;
  // +1 column of padding: the staging stores walk the tile across its rows for one of the two
  // global layouts, and an odd row length spreads those over the memory banks.
  const SA = BM + 1, SB = BN + 1;
  const aIdx = l.transA ? '(k0 + kk) * Mm + m0 + mm' : '(m0 + mm) * K + k0 + kk';
  const bIdx = l.transB ? '(n0 + nn) * K + k0 + kk' : '(k0 + kk) * N + n0 + nn';
  // Neighbouring invocations read neighbouring addresses of the stored matrix (coalesced).
  const aSplit = l.transA ? `let mm = e % ${BM}u; let kk = e / ${BM}u;` : `let kk = e % ${BK}u; let mm = e / ${BK}u;`;
  const bSplit = l.transB ? `let kk = e % ${BK}u; let nn = e / ${BK}u;` : `let nn = e % ${BN}u; let kk = e / ${BN}u;`;
  const acc: string[] = [];
  let inner = '';
  // Invocation (tx, ty) owns rows ty + 16i and columns tx + 16j: a warp's shared-memory reads
  // are then broadcasts (A) or consecutive words (B), and its stores are coalesced.
  for (let i = 0; i < TM; i++) inner += `let a${i} = As[kk * ${SA}u + ty + ${i * TY}u];\n      `;
  for (let j = 0; j < TN; j++) inner += `let b${j} = Bs[kk * ${SB}u + tx + ${j * TX}u];\n      `;
  let store = '';
  for (let i = 0; i < TM; i++) {
    for (let j = 0; j < TN; j++) {
      acc.push(`var c${i}_${j} = 0.0;`);
      inner += `c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});\n      `;
      store += `out[${i * TN + j}] = c${i}_${j};\n  `;
    }
  }
  return {
    key: `matmul_tiled_${layoutKey(l)}_${TM}x${TN}x${BK}`,
    uniforms: MATMUL,
    access: ACCESS,
    wgsl: () => `
${bindings('array<f32>', 'array<f32>', 'array<f32>')}
var<workgroup> As: array<f32, ${BK * SA}>;
var<workgroup> Bs: array<f32, ${BK * SB}>;
${EPILOGUE}
@compute @workgroup_size(${TX}, ${TY})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let Mm = params.M;
  let N = params.N;
  let K = params.K;
  let bz = wid.z + params.zOffset;
  let off = batch_offsets(bz);
  let tx = lid3.x;
  let ty = lid3.y;
  let m0 = wid.y * ${BM}u;
  let n0 = wid.x * ${BN}u;
  ${acc.join('\n  ')}
  for (var k0 = 0u; k0 < K; k0 += ${BK}u) {
    for (var e = lid; e < ${BM * BK}u; e += ${NT}u) {
      ${aSplit}
      var v = 0.0;
      if (m0 + mm < Mm && k0 + kk < K) { v = A[off.x + ${aIdx}]; }
      As[kk * ${SA}u + mm] = v;
    }
    for (var e = lid; e < ${BN * BK}u; e += ${NT}u) {
      ${bSplit}
      var v = 0.0;
      if (n0 + nn < N && k0 + kk < K) { v = B[off.y + ${bIdx}]; }
      Bs[kk * ${SB}u + nn] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk++) {
      ${inner}
    }
    workgroupBarrier();
  }
  // One copy of the epilogue in a loop (activate() inlined once keeps the compile short).
  var out: array<f32, ${TM * TN}>;
  ${store}
  for (var t = 0u; t < ${TM * TN}u; t++) {
    let row = m0 + ty + (t / ${TN}u) * ${TY}u;
    let col = n0 + tx + (t % ${TN}u) * ${TX}u;
    if (row < Mm && col < N) {
      let i = bz * Mm * N + row * N + col;
      var z = out[t];
      if (has_bias()) { z += Bias[col]; }
      if (store_pre()) { Z[i] = z; }
      C[i] = activate(z);
    }
  }
}`,
  };
}

// ------------------------------------------------------------------ CPU kernel (SIMD lanes + broadcast)

/** Workgroups of the simd kernel: [N tiles, M tiles]. */
export function simdGrid(c: SimdConfig, M: number, N: number): [number, number] {
  return [Math.ceil(N / (c.lanes * 4 * c.colVec4s)), Math.ceil(M / c.rows)];
}

/**
 * One subgroup (= one workgroup) computes `rows` rows of C and lanes·4·colVec4s columns; lane
 * `l` owns the column quads n0 + 4·(j·lanes + l). Per block of 4 k-steps every lane loads
 * rows/lanes vec4 "A slots" and 4·colVec4s vec4s of B; the A slots are broadcast to the whole
 * subgroup, so A(i, k) for all `rows` rows costs rows/lanes loads instead of `rows`.
 *
 * A slot layout: with A row-major (k contiguous) slot s holds row s at k..k+3; with A
 * transposed and vec4-readable (m contiguous) slot s holds rows 4q..4q+3 at k+u, s = u·rows/4 + q.
 *
 * K need not be a multiple of 4: the last block clamps its k indices into range and zeroes the
 * A values past K, so the padding contributes 0·B(K-1, n) (which differs from an exact sum only
 * when that B element is infinite: NaN instead of ±inf).
 */
export function simdMatmulKernel(l: MatmulLayout, c: SimdConfig, v: SimdVectors): Kernel<MatmulUniforms> {
  const { lanes: S, rows: R, colVec4s: TN4 } = c;
  if (R % S !== 0 || R % 4 !== 0) throw new Error(`simd matmul: rows ${R} must be a multiple of ${S} and of 4`);
  const regs = R / S;
  const Q = R / 4;
  const { vecA, vecB, vecC } = v;
  const transSlots = l.transA && vecA;
  const f4 = (xs: string[]) => `vec4<f32>(${xs.join(', ')})`;
  const ku = (u: number) => (u === 0 ? 'k' : `k${u}`); // clamped k + u

  let setup = '';
  for (let r = 0; r < regs; r++) {
    setup += `let rowA${r} = min(m0 + ${r * S}u + lane, Mm - 1u);\n  `;
    if (transSlots) {
      setup += `let slotU${r} = (${r * S}u + lane) / ${Q}u;\n  `;
      setup += `let quadA${r} = min(m0 + ((${r * S}u + lane) % ${Q}u) * 4u, Mm - 4u);\n  `;
    }
  }
  for (let j = 0; j < TN4; j++) {
    const col = `n0 + (${j * S}u + lane) * 4u`;
    if (vecB && !l.transB) setup += `let colB${j} = min(${col}, N - 4u);\n  `;
    else for (let cc = 0; cc < 4; cc++) setup += `let colB${j}_${cc} = min(${col} + ${cc}u, N - 1u);\n  `;
  }

  let body = `let k1 = min(k + 1u, K - 1u);
    let k2 = min(k + 2u, K - 1u);
    let k3 = min(k + 3u, K - 1u);
    let kIn = vec4<bool>(true, k + 1u < K, k + 2u < K, k + 3u < K);\n    `;
  for (let r = 0; r < regs; r++) {
    if (!l.transA && vecA) {
      body += `let ar${r} = A[(off.x + rowA${r} * K + k) >> 2u];\n    `; // K % 4 == 0: never partial
    } else if (!l.transA) {
      body += `let ar${r} = select(vec4<f32>(0.0), ${f4([0, 1, 2, 3].map((u) => `A[off.x + rowA${r} * K + ${ku(u)}]`))}, kIn);\n    `;
    } else if (vecA) {
      body += `let ar${r} = select(vec4<f32>(0.0), A[(off.x + min(k + slotU${r}, K - 1u) * Mm + quadA${r}) >> 2u], k + slotU${r} < K);\n    `;
    } else {
      body += `let ar${r} = select(vec4<f32>(0.0), ${f4([0, 1, 2, 3].map((u) => `A[off.x + ${ku(u)} * Mm + rowA${r}]`))}, kIn);\n    `;
    }
  }
  for (let j = 0; j < TN4; j++) {
    if (!l.transB) {
      for (let u = 0; u < 4; u++) {
        const row = `off.y + ${ku(u)} * N`;
        body += vecB
          ? `let b${j}_${u} = B[(${row} + colB${j}) >> 2u];\n    `
          : `let b${j}_${u} = ${f4([0, 1, 2, 3].map((cc) => `B[${row} + colB${j}_${cc}]`))};\n    `;
      }
    } else {
      // B stored [N, K]: read each owned column along k, then regroup in registers (free: SoA).
      for (let cc = 0; cc < 4; cc++) {
        body += vecB
          ? `let bt${j}_${cc} = B[(off.y + colB${j}_${cc} * K + k) >> 2u];\n    ` // K % 4 == 0
          : `let bt${j}_${cc} = ${f4([0, 1, 2, 3].map((u) => `B[off.y + colB${j}_${cc} * K + ${ku(u)}]`))};\n    `;
      }
      for (let u = 0; u < 4; u++) body += `let b${j}_${u} = vec4<f32>(bt${j}_0[${u}], bt${j}_1[${u}], bt${j}_2[${u}], bt${j}_3[${u}]);\n    `;
    }
  }
  for (let s = 0; s < R; s++) body += `let av${s} = subgroupBroadcast(ar${Math.floor(s / S)}, ${s % S}u);\n    `;
  for (let i = 0; i < R; i++) {
    for (let u = 0; u < 4; u++) {
      // A(i, k+u) is slot i, component u; or (transposed slots) slot u·Q + i/4, component i%4.
      const a = transSlots ? `av${u * Q + Math.floor(i / 4)}[${i % 4}]` : `av${i}[${u}]`;
      for (let j = 0; j < TN4; j++) body += `c${i}_${j} = fma(vec4<f32>(${a}), b${j}_${u}, c${i}_${j});\n    `;
    }
  }

  const acc: string[] = [];
  const spill: string[] = [];
  for (let i = 0; i < R; i++) {
    for (let j = 0; j < TN4; j++) {
      acc.push(`var c${i}_${j} = vec4<f32>(0.0);`);
      spill.push(`out[${i * TN4 + j}] = c${i}_${j};`);
    }
  }
  const storeQuad = vecC
    ? `if (col < N) {
          let i = (rowBase + col) >> 2u;
          var z = out[t];
          if (has_bias()) { z += Bias[col >> 2u]; }
          if (store_pre()) { Z[i] = z; }
          var y = z;
          for (var cc = 0u; cc < 4u; cc++) { y[cc] = activate(z[cc]); }
          C[i] = y;
        }`
    : `for (var cc = 0u; cc < 4u; cc++) {
          if (col + cc < N) {
            let i = rowBase + col + cc;
            var z = out[t][cc];
            if (has_bias()) { z += Bias[col + cc]; }
            if (store_pre()) { Z[i] = z; }
            C[i] = activate(z);
          }
        }`;
  const vt = (vec: boolean) => (vec ? 'array<vec4<f32>>' : 'array<f32>');
  return {
    key: `matmul_simd_${layoutKey(l)}_${vecA ? 'v' : 's'}${vecB ? 'v' : 's'}${vecC ? 'v' : 's'}_${S}x${R}x${TN4}`,
    uniforms: MATMUL,
    extensions: ['subgroups'],
    access: ACCESS,
    wgsl: () => `
${bindings(vt(vecA), vt(vecB), vt(vecC))}
${EPILOGUE}
@compute @workgroup_size(${S})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let Mm = params.M;
  let N = params.N;
  let K = params.K;
  let bz = wid.z + params.zOffset;
  let off = batch_offsets(bz);
  let m0 = wid.y * ${R}u;
  let n0 = wid.x * ${S * 4 * TN4}u;
  ${setup}
  ${acc.join('\n  ')}
  for (var k = 0u; k < K; k += 4u) {
    ${body}
  }
  // The epilogue loops over a copy of the accumulators: unrolling it per accumulator would
  // double the shader (and its compile time) for no speed.
  var out: array<vec4<f32>, ${R * TN4}>;
  ${spill.join('\n  ')}
  for (var i = 0u; i < ${R}u; i++) {
    if (m0 + i < Mm) {
      let rowBase = bz * Mm * N + (m0 + i) * N;
      for (var j = 0u; j < ${TN4}u; j++) {
        let col = n0 + (j * ${S}u + lane) * 4u;
        let t = i * ${TN4}u + j;
        ${storeQuad}
      }
    }
  }
}`,
  };
}
