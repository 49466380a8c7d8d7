// Node-only modules (node:fs, node:zlib, sharp, ...) loaded on first use. The specifier is not a
// literal, so bundlers leave the import alone and the browser build carries no Node code; outside
// Node the caller's `where` sentence says what to use instead.

const cache = new Map<string, Promise<unknown>>();

/** A Node module, or an Error saying that `what` needs Node.js and, after it, `instead`. */
export function nodeModule<T>(specifier: string, what: string, instead = ''): Promise<T> {
  let p = cache.get(specifier) as Promise<T> | undefined;
  if (!p) {
    p = (async () => {
      try {
        return (await import(/* @vite-ignore */ specifier)) as T;
      } catch (e) {
        cache.delete(specifier);
        if (!specifier.startsWith('node:') && isMissingPackage(e, specifier)) throw new Error(missingPackage(specifier, what));
        throw new Error(`${what} needs ${specifier.startsWith('node:') ? 'Node.js' : `the \`${specifier}\` package`}${instead ? `; ${instead}` : ''} (${(e as Error).message})`);
      }
    })();
    cache.set(specifier, p);
  }
  return p;
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
