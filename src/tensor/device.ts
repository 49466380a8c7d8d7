// Finds a WebGPU adapter — Dawn (npm `webgpu`) in Node, `navigator.gpu` in a browser — and owns
// the single device webfam runs on. Everything GPU-side goes through the Runtime made here.
import { Runtime } from './runtime.js';
import { isMissingPackage, missingPackage } from '../io/node.js';

export interface InitOptions {
  /** 'high-performance' (default) or 'low-power'. */
  powerPreference?: GPUPowerPreference;
  /**
   * Submit every op on its own, inside its own error scope, so a GPU validation or
   * out-of-memory error names the exact op and shapes (slower; for debugging).
   */
  debug?: boolean;
  /** Fill every freshly acquired buffer with NaN so unwritten elements show up (tests). */
  poison?: boolean;
  /**
   * Elementwise fusion: chains of pointwise ops (and their gradients) run as one generated
   * kernel each, computed when a value is needed (default true). `false` dispatches every op on
   * its own, each its own kernel (for debugging, or to compare).
   */
  fuse?: boolean;
  /** Dispatches recorded before the batch is submitted to the queue (default 64). */
  batchSize?: number;
  /** Extra Dawn toggles in Node, e.g. `enable-dawn-features=allow_unsafe_apis`. */
  dawnFlags?: string[];
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  backend: 'dawn-node' | 'browser';
  features: string[];
}

let runtime: Runtime | null = null;
let initializing: Promise<Runtime> | null = null;
// dawn.node's GPU object must outlive the device: if it is garbage-collected, Node segfaults.
let dawnGpuKeepAlive: unknown = null;

const isNode = typeof process !== 'undefined' && !!(process as { versions?: { node?: string } }).versions?.node;

const NO_ADAPTER_HELP = [
  'webfam: no WebGPU adapter found.',
  '  In Node, webfam uses Dawn (npm package `webgpu`), which needs a Vulkan driver.',
  '  Without a GPU, install Mesa\'s software Vulkan driver (lavapipe), version 24 or newer;',
  '  on Debian 12: echo "deb http://deb.debian.org/debian bookworm-backports main" >',
  '  /etc/apt/sources.list.d/backports.list && apt-get update &&',
  '  apt-get install -t bookworm-backports mesa-vulkan-drivers',
  '  In a browser: Chrome/Edge 113+ (on Linux start with --enable-unsafe-webgpu', '  --enable-features=Vulkan), Safari 26+, or Firefox 141+ on Windows.',
].join('\n');

const BROWSER_SUPPORT = [
  '  WebGPU works in Chrome and Edge 113+ (Windows, macOS, ChromeOS, Android 12+; on Linux start',
  '  them with --enable-unsafe-webgpu --enable-features=Vulkan, or enable',
  '  chrome://flags/#enable-unsafe-webgpu), Safari 26+ (macOS, iOS, iPadOS), and Firefox 141+ on',
  '  Windows (elsewhere: dom.webgpu.enabled in about:config, or Firefox Nightly).',
].join('\n');

/** Why a page has no WebGPU: no navigator.gpu (old browser, flag off, insecure page) or no adapter. */
function browserHelp(hasApi: boolean): string {
  const secure = (globalThis as { isSecureContext?: boolean }).isSecureContext !== false;
  const first = !hasApi
    ? secure
      ? 'webfam: this browser does not offer WebGPU (navigator.gpu is undefined).'
      : 'webfam: WebGPU is only available to secure pages: serve this page over https:// or from http://localhost.'
    : 'webfam: the browser offers WebGPU but found no usable GPU adapter (the GPU may be blocklisted; see chrome://gpu).';
  return `${first}\n${BROWSER_SUPPORT}`;
}

async function getGpu(opts: InitOptions): Promise<{ gpu: GPU; backend: AdapterDescription['backend'] }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (!isNode) {
    if (!nav?.gpu) throw new Error(browserHelp(false));
    return { gpu: nav.gpu, backend: 'browser' };
  }
  // Non-literal specifier: bundlers leave it alone, so the browser build never contains dawn.node.
  const specifier = 'webgpu';
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    mod = await import(specifier);
  } catch (e) {
    if (isMissingPackage(e, 'webgpu')) throw new Error(`webfam: ${missingPackage('webgpu', 'running in Node (WebGPU through Dawn)')}`);
    throw new Error(`webfam: the \`webgpu\` package (Dawn, WebGPU for Node) is installed but failed to load: ${(e as Error).message}`);
  }
  // WebGPU constants (GPUBufferUsage, GPUMapMode, ...) are globals in browsers; provide them in Node.
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const gpu = mod.create(opts.dawnFlags ?? []);
  dawnGpuKeepAlive = gpu;
  return { gpu, backend: 'dawn-node' };
}

/** Starts webfam: finds the adapter, creates the device. Safe to call more than once. */
export async function init(opts: InitOptions = {}): Promise<AdapterDescription> {
  if (runtime && !runtime.lost) {
    runtime.configure(opts);
    return runtime.adapterDescription;
  }
  if (!initializing) {
    initializing = (async () => {
      const { gpu, backend } = await getGpu(opts);
      const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
      if (!adapter) throw new Error(backend === 'browser' ? browserHelp(true) : NO_ADAPTER_HELP);
      // 'subgroups' is newer than some @webgpu/types versions' GPUFeatureName union.
      const wanted = ['timestamp-query', 'subgroups', 'shader-f16'];
      const requiredFeatures = wanted.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
      const L = adapter.limits;
      const requiredLimits: Record<string, number> = {
        maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
        maxBufferSize: L.maxBufferSize,
        maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: L.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: L.maxComputeWorkgroupSizeX,
        maxComputeWorkgroupSizeY: L.maxComputeWorkgroupSizeY,
        maxStorageBuffersPerShaderStage: L.maxStorageBuffersPerShaderStage,
        maxComputeWorkgroupsPerDimension: L.maxComputeWorkgroupsPerDimension,
      };
      const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
      const info = adapter.info;
      const desc: AdapterDescription = {
        vendor: info.vendor,
        architecture: info.architecture,
        device: info.device,
        description: info.description,
        backend,
        features: [...device.features].map(String).sort(),
      };
      const rt = new Runtime(device, desc, opts);
      rt.keepAlive = dawnGpuKeepAlive;
      return rt;
    })();
  }
  try {
    runtime = await initializing;
  } finally {
    initializing = null;
  }
  return runtime.adapterDescription;
}

/** The runtime; throws a clear error when `init()` has not been awaited. */
export function rt(): Runtime {
  if (!runtime) throw new Error('webfam: call `await init()` before creating tensors.');
  if (runtime.lost) throw new Error(`webfam: the GPU device was lost (${runtime.lost}); call \`await init()\` again.`);
  return runtime;
}

/** True once `init()` has finished and the device is alive. */
export function isInitialized(): boolean {
  return !!runtime && !runtime.lost;
}

/** The adapter webfam runs on (vendor, architecture, description, backend, features). */
export function adapterInfo(): AdapterDescription {
  return rt().adapterDescription;
}

/** Destroys the device and frees every GPU buffer. Tensors made before are unusable after. */
export async function shutdown(): Promise<void> {
  if (!runtime) return;
  const r = runtime;
  runtime = null;
  await r.destroy();
}
