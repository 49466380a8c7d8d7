// One seed for everything random a model draws: the initialisers' host generator (./init.ts, so
// a seed gives the same weights on every adapter) and the GPU random ops' counter (dropout, Gumbel
// noise, rand/randn in src/tensor/ops/random.ts). Data order and augmentation take their seed
// explicitly (src/data/random.ts), so they need no global state.
import { manualSeed as seedRandomOps } from '../tensor/ops/random.js';
import { manualSeed as seedInitialisers } from './init.js';

/** Seeds the random ops and the initialisers: the same seed gives the same run. */
export function seedAll(seed: number): void {
  seedRandomOps(seed);
  seedInitialisers(seed);
}
