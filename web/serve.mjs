// `npm run demo`: builds the demo page (web/build.mjs) and serves dist/web/ on 127.0.0.1 — a
// secure context, as WebGPU requires. Flags: --port N (default 8080; 0 picks a free port),
// --no-build (serve what is there). The first stdout line is the address.
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { buildDemo } from './build.mjs';

const USAGE = 'usage: node web/serve.mjs [--port N] [--no-build]';
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.json': 'application/json', '.png': 'image/png', '.safetensors': 'application/octet-stream',
};

function parseFlags(argv) {
  const flags = { port: 8080, build: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-build') flags.build = false;
    else if (a === '--port' || a.startsWith('--port=')) {
      const v = a.includes('=') ? a.slice(7) : argv[++i];
      if (!/^\d+$/.test(v ?? '') || Number(v) > 65535) throw new Error(`--port needs a number from 0 to 65535, got ${v ?? 'nothing'}\n${USAGE}`);
      flags.port = Number(v);
    } else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown flag ${a}\n${USAGE}`);
  }
  return flags;
}

/** A static file server for `dir`; paths outside it are refused. */
function staticServer(dir) {
  const base = resolve(dir);
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let path;
    try {
      path = normalize(join(base, decodeURIComponent(url.pathname)));
    } catch {
      path = '';
    }
    if (path !== base && !path.startsWith(base + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    let st = null;
    try {
      st = statSync(path);
      if (st.isDirectory()) {
        path = join(path, 'index.html');
        st = statSync(path);
      }
    } catch {
      st = null;
    }
    if (!st || !st.isFile() || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(st ? 405 : 404, { 'content-type': 'text/plain' }).end(st ? 'method not allowed' : `not found: ${url.pathname}`);
      return;
    }
    // Content-Length lets the page show loading progress of large checkpoints.
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'content-length': st.size, 'cache-control': 'no-store' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(path).pipe(res);
  });
}

async function main() {
  let flags;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (e) {
    console.error(`serve: ${e.message}`);
    process.exit(2);
  }
  const dir = resolve(new URL('..', import.meta.url).pathname, 'dist/web');
  if (flags.build) {
    const r = await buildDemo();
    console.error(`built dist/web (webfam.js ${(r.library.gzip / 1024).toFixed(1)} KB gzipped, main.js ${(r.page.gzip / 1024).toFixed(1)} KB gzipped)`);
  }
  const server = staticServer(dir);
  server.on('error', (e) => {
    console.error(`serve: ${e.code === 'EADDRINUSE' ? `port ${flags.port} is in use; choose another with --port N (0 = any free port)` : e.message}`);
    process.exit(1);
  });
  server.listen(flags.port, '127.0.0.1', () => {
    const { port } = server.address();
    console.log(`webfam demo: http://127.0.0.1:${port}/`);
    console.error('WebGPU: Chrome/Edge 113+, Safari 26+, Firefox 141+ on Windows; on Linux start Chrome with --enable-unsafe-webgpu --enable-features=Vulkan. Ctrl-C stops.');
  });
}

await main();
