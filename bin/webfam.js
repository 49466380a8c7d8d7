#!/usr/bin/env node
// The `webfam` command of the npm package (`npx webfam train …`): `webfam train [flags]` runs the
// training CLI, the same program as `node train.js` in a clone of the repository.
// Dawn (`webgpu`) and `sharp` are optional peer dependencies, so that installing webfam for its
// browser bundle does not fetch their native binaries; before training starts, this script checks
// that they are there and, if not, names the one command that adds them.
import { existsSync, readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const [command, ...rest] = argv;

const USAGE = `Usage: webfam <command> [flags]

Commands:
  train [flags]   train iFAM, a baseline ViT or relevance-map fine-tuning on data with spurious
                  backgrounds; \`webfam train --help\` lists every flag
  help            this text (also --help)
  version         webfam's version (also --version)

The CLI runs on WebGPU through Dawn, the package \`webgpu\`; reading an image folder (--data) also
needs \`sharp\`. Both are optional peer dependencies of webfam:
  in a project:     npm install webfam webgpu sharp && npx webfam train
  without install:  npx -p webfam -p webgpu -p sharp webfam train`;

if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
  console.log(USAGE);
  process.exit(0);
}
if (command === 'version' || command === '--version' || command === '-v') {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  console.log(pkg.version);
  process.exit(0);
}
if (command !== 'train') {
  console.error(`webfam: unknown command "${command}"; \`webfam train [flags]\` trains a model, \`webfam --help\` lists the commands`);
  process.exit(2);
}

// `webfam train --help` needs neither package.
if (!rest.includes('--help') && !rest.includes('-h')) {
  const needed = ['webgpu', ...(rest.some((a) => a === '--data' || a.startsWith('--data=')) ? ['sharp'] : [])];
  const missing = needed.filter((name) => !isInstalled(name));
  if (missing.length > 0) {
    // npx needs every package in one call, so its form names all that are needed, not just the missing.
    const names = missing.map((m) => `\`${m}\``).join(' and ');
    console.error(`webfam train: needs ${names} (optional peer dependenc${missing.length > 1 ? 'ies' : 'y'} of webfam, not installed): run \`npm install ${missing.join(' ')}\`, or without a project \`npx -p webfam ${needed.map((m) => `-p ${m} `).join('')}webfam train …\``);
    process.exit(1);
  }
}

const cli = new URL('../dist/node/train.js', import.meta.url);
if (!existsSync(cli)) {
  // Only in a clone of the repository that has not been built; the package always holds dist/.
  console.error('webfam: dist/node/train.js is missing; run `npm install` (it builds webfam) first');
  process.exit(1);
}
const { main } = await import(cli.href);
const code = await main(rest, { program: 'webfam train' });
// dawn.node keeps the event loop alive; exit once the run is done.
process.exit(code);

/** Whether `name` resolves from here (as the CLI's own import of it will). */
function isInstalled(name) {
  // import.meta.resolve is synchronous from Node 20.6; before that, let the CLI's own error speak.
  if (typeof import.meta.resolve !== 'function') return true;
  try {
    import.meta.resolve(name);
    return true;
  } catch (e) {
    return e?.code !== 'ERR_MODULE_NOT_FOUND';
  }
}
