// Accuracy by group (average and worst-group) and how well a map segments the object:
// thresholded at its mean, pixel accuracy and two-class mIoU against the ground truth; AP with
// the raw map as a score. Host-side; inputs are plain arrays.

export interface GroupAccuracy {
  avgAcc: number;
  worstGroupAcc: number;
  /** Accuracy and count of each (class, place) group, keyed "y=<c>,place=<p>". */
  groups: Record<string, { acc: number; n: number }>;
}

export function groupAccuracy(pred: ArrayLike<number>, y: ArrayLike<number>, place: ArrayLike<number>): GroupAccuracy {
  const tally = new Map<string, { right: number; n: number }>();
  let right = 0;
  for (let i = 0; i < y.length; i++) {
    const key = `y=${y[i]},place=${place[i]}`;
    const t = tally.get(key) ?? { right: 0, n: 0 };
    t.n++;
    if (pred[i] === y[i]) {
      t.right++;
      right++;
    }
    tally.set(key, t);
  }
  const groups: GroupAccuracy['groups'] = {};
  let worst = Infinity;
  for (const [k, t] of [...tally].sort(([a], [b]) => a.localeCompare(b))) {
    groups[k] = { acc: t.right / t.n, n: t.n };
    worst = Math.min(worst, t.right / t.n);
  }
  return { avgAcc: y.length ? right / y.length : NaN, worstGroupAcc: y.length ? worst : NaN, groups };
}

export interface SegmentationScore {
  pixelAcc: number;
  /** Mean of foreground IoU and background IoU. */
  mIoU: number;
  /** Average precision of the raw map as a foreground score (NaN for binary maps' ties is fine). */
  ap: number;
}

/** Accumulates segmentation counts over many images. */
export class SegmentationMeter {
  private tp = 0; private fp = 0; private fn = 0; private tn = 0;
  private apSum = 0; private apN = 0;

  /**
   * `map` holds scores for one image (any range); `gt` the mask (nonzero = object), same length.
   * `threshold` defaults to the map's mean (docs/methods.md); binary masks pass 0.5.
   */
  add(map: ArrayLike<number>, gt: ArrayLike<number>, threshold?: number): void {
    if (map.length !== gt.length) throw new Error(`SegmentationMeter: map has ${map.length} pixels, mask ${gt.length}`);
    let mean = 0;
    for (let i = 0; i < map.length; i++) mean += map[i]!;
    const th = threshold ?? mean / map.length;
    for (let i = 0; i < map.length; i++) {
      const p = threshold === undefined ? map[i]! > th : map[i]! >= th;
      const g = gt[i]! !== 0;
      if (p && g) this.tp++;
      else if (p) this.fp++;
      else if (g) this.fn++;
      else this.tn++;
    }
    const ap = averagePrecision(map, gt);
    if (!Number.isNaN(ap)) {
      this.apSum += ap;
      this.apN++;
    }
  }

  result(): SegmentationScore {
    const { tp, fp, fn, tn } = this;
    const iouFg = tp / Math.max(1, tp + fp + fn);
    const iouBg = tn / Math.max(1, tn + fp + fn);
    return { pixelAcc: (tp + tn) / Math.max(1, tp + fp + fn + tn), mIoU: (iouFg + iouBg) / 2, ap: this.apN ? this.apSum / this.apN : NaN };
  }
}

/** Average precision of scores against binary labels (ties broken pessimistically). */
export function averagePrecision(score: ArrayLike<number>, gt: ArrayLike<number>): number {
  const idx = Array.from({ length: score.length }, (_, i) => i);
  // Descending score; among equal scores negatives first (pessimistic).
  idx.sort((a, b) => score[b]! - score[a]! || (gt[a] ? 1 : 0) - (gt[b] ? 1 : 0));
  let positives = 0;
  for (let i = 0; i < gt.length; i++) if (gt[i]) positives++;
  if (positives === 0) return NaN;
  let tp = 0, sum = 0;
  idx.forEach((i, rank) => {
    if (gt[i]) {
      tp++;
      sum += tp / (rank + 1);
    }
  });
  return sum / positives;
}
