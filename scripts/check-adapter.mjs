// Prints the WebGPU adapter Dawn finds in Node; exits 1 when there is none.
// Used by .ci/run to decide whether the software Vulkan driver must be installed.
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter().catch(() => null);
if (!adapter) {
  console.error('check-adapter: Dawn found no WebGPU adapter');
  process.exit(1);
}
const i = adapter.info;
console.log(`check-adapter: ${i.vendor} ${i.architecture} ${i.description || i.device}`.trim());
process.exit(0);
