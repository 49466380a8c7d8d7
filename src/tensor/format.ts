// Printing tensor values the way PyTorch's repr does (torch/_tensor_str.py with the default print
// options: precision 4, threshold 1000 elements, 3 edge items, line width 80), so a webfam tensor
// and the same torch tensor print alike: `tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)`.
// Pure: it formats host values; Tensor.repr() reads them back from the GPU first.

const PRECISION = 4;
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;
const LINE_WIDTH = 80;
const PREFIX = 'tensor(';

/** Python's '{:.Nf}' of a double (JS drops the sign of negative zero; Python keeps it). */
function fixed(v: number, digits: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  const s = v.toFixed(digits);
  return Object.is(v, -0) || (v < 0 && !s.startsWith('-')) ? `-${s}` : s;
}

/** Python's '{:.Ne}': the exponent has a sign and at least two digits (1.0000e-05). */
function scientific(v: number, digits: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  const [mantissa, exponent] = v.toExponential(digits).split('e') as [string, string];
  const sign = exponent.startsWith('-') ? '-' : '+';
  const digitsOnly = exponent.replace(/^[-+]/, '');
  return `${Object.is(v, -0) ? '-' : ''}${mantissa}e${sign}${digitsOnly.padStart(2, '0')}`;
}

/** torch's _Formatter for floating tensors: integer, fixed or scientific mode and a common width. */
class Formatter {
  private intMode = true;
  private sciMode = false;
  private maxWidth = 1;

  constructor(values: ArrayLike<number>) {
    const nonzeroFinite: number[] = [];
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (Number.isFinite(v) && v !== 0) nonzeroFinite.push(v);
    }
    if (nonzeroFinite.length === 0) return;
    let min = Infinity, max = 0;
    for (const v of nonzeroFinite) {
      const a = Math.abs(v);
      if (a < min) min = a;
      if (a > max) max = a;
    }
    this.intMode = nonzeroFinite.every((v) => v === Math.ceil(v));
    const wide = max / min > 1000 || max > 1e8;
    this.sciMode = this.intMode ? wide : wide || min < 1e-4;
    for (const v of nonzeroFinite) {
      const width = this.sciMode ? scientific(v, PRECISION).length : this.intMode ? fixed(v, 0).length + 1 : fixed(v, PRECISION).length;
      if (width > this.maxWidth) this.maxWidth = width;
    }
  }

  get width(): number {
    return this.maxWidth;
  }

  format(v: number): string {
    let s: string;
    if (this.sciMode) s = scientific(v, PRECISION);
    else if (this.intMode) s = fixed(v, 0) + (Number.isFinite(v) ? '.' : '');
    else s = fixed(v, PRECISION);
    return s.padStart(this.maxWidth);
  }
}

/** The values a summarised print shows (torch's get_summarized_data), in order. */
function visibleValues(values: ArrayLike<number>, shape: readonly number[], summarize: boolean): number[] {
  const out: number[] = [];
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const walk = (dim: number, offset: number) => {
    if (dim === shape.length) {
      out.push(values[offset]!);
      return;
    }
    const n = shape[dim]!;
    const rows = summarize && n > 2 * EDGE_ITEMS ? [...Array(EDGE_ITEMS).keys(), ...Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i)] : [...Array(n).keys()];
    for (const i of rows) walk(dim + 1, offset + i * strides[dim]!);
  };
  walk(0, 0);
  return out;
}

function tensorString(values: ArrayLike<number>, shape: readonly number[], dim: number, offset: number, indent: number, summarize: boolean, f: Formatter): string {
  const rank = shape.length;
  if (rank === 0) return f.format(values[0]!);
  const n = shape[dim]!;
  const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const cut = summarize && n > 2 * EDGE_ITEMS;
  if (dim === rank - 1) {
    const items = cut
      ? [...Array.from({ length: EDGE_ITEMS }, (_, i) => f.format(values[offset + i]!)), ' ...', ...Array.from({ length: EDGE_ITEMS }, (_, i) => f.format(values[offset + n - EDGE_ITEMS + i]!))]
      : Array.from({ length: n }, (_, i) => f.format(values[offset + i]!));
    const perLine = Math.max(1, Math.floor((LINE_WIDTH - indent) / (f.width + 2)));
    const lines: string[] = [];
    for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
    return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
  }
  const sub = (i: number) => tensorString(values, shape, dim + 1, offset + i * stride, indent + 1, summarize, f);
  const slices = cut
    ? [...Array.from({ length: EDGE_ITEMS }, (_, i) => sub(i)), '...', ...Array.from({ length: EDGE_ITEMS }, (_, i) => sub(n - EDGE_ITEMS + i))]
    : Array.from({ length: n }, (_, i) => sub(i));
  return `[${slices.join(`,${'\n'.repeat(rank - dim - 1)}${' '.repeat(indent + 1)}`)}]`;
}

/**
 * PyTorch's repr of a float32 tensor with these values and shape: `tensor([0.5000, 1.0000])`,
 * summarised with `...` beyond 1,000 elements, wrapped at 80 columns, then the suffixes
 * (`requires_grad=True`, `grad_fn=<MulBackward>`).
 */
export function formatTensor(values: ArrayLike<number>, shape: readonly number[], suffixes: readonly string[] = []): string {
  const size = shape.reduce((a, b) => a * b, 1);
  const all = [...suffixes];
  let body: string;
  if (size === 0) {
    if (shape.length !== 1) all.unshift(`size=(${shape.join(', ')})`);
    body = '[]';
  } else {
    const summarize = size > THRESHOLD;
    const f = new Formatter(summarize ? visibleValues(values, shape, true) : values);
    body = tensorString(values, shape, 0, 0, PREFIX.length, summarize, f);
  }
  let text = PREFIX + body;
  let lastLine = text.length - text.lastIndexOf('\n') + 1;
  for (const s of all) {
    if (lastLine + s.length + 2 > LINE_WIDTH) {
      text += `,\n${' '.repeat(PREFIX.length)}${s}`;
      lastLine = PREFIX.length + s.length;
    } else {
      text += `, ${s}`;
      lastLine += s.length + 2;
    }
  }
  return `${text})`;
}
