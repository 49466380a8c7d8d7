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
        throw new Error(`${what} needs ${specifier.startsWith('node:') ? 'Node.js' : `the \`${specifier}\` package`}${instead ? `; ${instead}` : ''} (${(e as Error).message})`);
      }
    })();
    cache.set(specifier, p);
  }
  return p;
}
