// The README's first code example runs as written (with 'webfam' resolved to this build).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

test('the README example runs and prints a loss and a gradient', () => {
  const readme = readFileSync('README.md', 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(code, 'no js example in the README');
  const lib = pathToFileURL(resolve('dist/node/index.js')).href;
  const dir = mkdtempSync(join(tmpdir(), 'webfam-readme-'));
  const file = join(dir, 'example.mjs');
  writeFileSync(file, code!.replace("from 'webfam'", `from '${lib}'`) + '\nprocess.exit(0);\n');
  let out: string;
  try {
    out = execFileSync(process.execPath, [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The adapter line, then the loss and w's three gradient entries.
  assert.match(out, /\n\d[\d.e+-]* Float32Array\(3\) \[\s*-?\d/);
});

test('backward after tidy freed the graph is an error, not silently missing gradients', async () => {
  const { init, tensor, tidy } = await import('../src/index.js');
  await init();
  const w = tensor([1, 2], { requiresGrad: true });
  const loss = tidy(() => w.mul(3).square().sum());
  assert.throws(() => loss.backward(), /disposed .* before backward ran; call backward\(\) inside the same tidy\(\)/);
});

test.run();
