// Which patches of a ViT's grid touch the object: the split the counterfactual tools
// (background-swap, relevance-mass) measure along. A patch touches the object when at least one of
// its pixels is in the silhouette.

/** 1 for each of the (S/P)² patches, row-major, that holds an object pixel of `mask` [S, S]. */
export function objectPatches(mask: ArrayLike<number>, S: number, P: number): Uint8Array {
  const g = S / P;
  const out = new Uint8Array(g * g);
  for (let p = 0; p < S * S; p++) if (mask[p]! > 0.5) out[Math.floor(p / S / P) * g + Math.floor((p % S) / P)] = 1;
  return out;
}
