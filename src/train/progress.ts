// Progress reporting for long work: a redrawn bar on a terminal (step, loss, images/s, ETA),
// plain lines otherwise (logs, CI), nothing with --quiet.

export interface ProgressStats {
  loss?: number;
  [k: string]: number | string | undefined;
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}` : `${m}:${String(s % 60).padStart(2, '0')}`;
}

export class Progress {
  private start = performance.now();
  private lastPlain = -1;
  private readonly tty: boolean;

  constructor(private readonly label: string, private readonly total: number, private readonly imagesPerStep: number, private readonly quiet = false, stream: { isTTY?: boolean } = process.stderr) {
    this.tty = !!stream.isTTY;
  }

  update(done: number, stats: ProgressStats = {}): void {
    if (this.quiet) return;
    const elapsed = (performance.now() - this.start) / 1000;
    const rate = done > 0 ? (done * this.imagesPerStep) / elapsed : 0;
    const eta = done > 0 ? (elapsed / done) * (this.total - done) : NaN;
    const extras = Object.entries(stats)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} ${typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) : v}`)
      .join('  ');
    const tail = `${done}/${this.total}  ${extras}  ${rate.toFixed(1)} img/s  ETA ${clock(eta)}`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round((done / Math.max(1, this.total)) * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      process.stderr.write(`\r${this.label} ${bar} ${tail}\x1b[K`);
    } else {
      // About ten lines per phase, plus the last.
      const tenth = Math.floor((done / Math.max(1, this.total)) * 10);
      if (tenth !== this.lastPlain || done === this.total) {
        this.lastPlain = tenth;
        process.stderr.write(`${this.label} ${tail}\n`);
      }
    }
  }

  finish(summary = ''): number {
    const seconds = (performance.now() - this.start) / 1000;
    if (!this.quiet) {
      if (this.tty) process.stderr.write('\r\x1b[K');
      if (summary) process.stderr.write(`${this.label} ${summary} (${clock(seconds)})\n`);
    }
    return seconds;
  }
}
