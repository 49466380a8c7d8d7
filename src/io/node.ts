// Node-only modules (node:fs, node:zlib, sharp, ...) loaded on first use, the one place webfam
// imports them. The specifier arrives as a parameter, never a literal or a local constant (which
// a minifier inlines into a literal import('sharp'), see 22e2951), so bundlers leave the import
// alone and the browser build carries no Node code; outside Node, or without an optional package,
// the caller's `what` and `instead` make the message.

const loaded = new Map<string, Promise<unknown>>();

/**
 * A Node module, or an error (made by `makeError`, a plain Error by default) saying that `what`
 * needs Node.js (or the package) and, after it, `instead`.
 */
export async function nodeModule<T>(specifier: string, what: string, instead = '', makeError: (message: string) => Error = (m) => new Error(m)): Promise<T> {
  let p = loaded.get(specifier);
  if (!p) {
    p = import(/* @vite-ignore */ specifier);
    loaded.set(specifier, p);
    // A failed load is retried on the next call (the package may be installed by then).
    p.catch(() => loaded.delete(specifier));
  }
  try {
    return (await p) as T;
  } catch (e) {
    const node = specifier.startsWith('node:');
    if (!node && isMissingPackage(e, specifier)) throw makeError(missingPackage(specifier, what));
    const needs = node ? 'Node.js' : `the \`${specifier}\` package, which is installed but failed to load`;
    throw makeError(`${what} needs ${needs}${instead ? `; ${instead}` : ''} (${(e as Error).message})`);
  }
}

/**
 * Whether `e` is Node's "Cannot find package 'name'": the package is not installed (as opposed to
 * installed but failing to load, whose own message is the one to show).
 */
export function isMissingPackage(e: unknown, name: string): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  return (err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') && String(err.message).includes(`'${name}'`);
}

/**
 * The one line for a Node-only package that is not installed. `webgpu` and `sharp` are optional
 * peer dependencies, so that installing webfam for the browser bundle does not pull in their
 * native binaries; Node code that needs one says so here.
 */
export function missingPackage(name: string, what: string): string {
  return `${what} needs the package \`${name}\`, an optional peer dependency of webfam that is not installed; run \`npm install ${name}\``;
}
