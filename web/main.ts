// The demo page: pick a checkpoint and an image, see the prediction with iFAM's hard mask and part
// maps (or a baseline's relevance map), switch parts off, and train a tiny model in the page.
// `window.webfamDemo` exposes the page's state for the browser tests.
import { data, init, vit } from '../src/index.js';
import { describe, loadCheckpoint, partCount, type Checkpoint, type Prediction } from './model.js';
import { BenchmarkSamples, decodeImageFile, fetchDemoObjects, toModelInput, type ModelImage } from './images.js';
import { cssColour, displayImage, drawCurves, maskPicture, partColour, partMapPicture, partShares, partsPicture, putRaster, relevancePicture, type Curves } from './draw.js';
import { trainTiny, type TrainMethod } from './train.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo page: no element #${id}`);
  return el as T;
};

interface DemoState {
  status: 'starting' | 'loading' | 'ready' | 'busy' | 'error' | 'no-webgpu';
  checkpoint: Checkpoint | null;
  checkpointName: string;
  image: ModelImage | null;
  disabled: Set<number>;
  prediction: Prediction | null;
  /** Predictions shown so far (tests wait for it to grow). */
  predictions: number;
  samples: BenchmarkSamples | null;
  /** The benchmark's test objects the sample images are composed from. */
  testObjects: data.SampleObjects | null;
  lastError: string;
}

const state: DemoState = {
  status: 'starting', checkpoint: null, checkpointName: '', image: null, disabled: new Set(), prediction: null,
  predictions: 0, samples: null, testObjects: null, lastError: '',
};

function setStatus(s: DemoState['status']): void {
  state.status = s;
  document.body.dataset.status = s;
}

function showError(where: HTMLElement, e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  state.lastError = msg;
  where.textContent = msg;
  where.classList.add('error');
  console.error(e);
}

// ------------------------------------------------------------------ checkpoints

async function useCheckpoint(source: string | File): Promise<void> {
  const info = $('model-info');
  const bar = $<HTMLProgressElement>('checkpoint-progress');
  const text = $('checkpoint-progress-text');
  const name = typeof source === 'string' ? source : source.name;
  info.classList.remove('error');
  info.textContent = `Loading ${name}…`;
  setStatus('loading');
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;
  try {
    const ck = await loadCheckpoint(source, (loaded, total) => {
      if (total) {
        bar.max = total;
        bar.value = loaded;
      } else bar.removeAttribute('value'); // indeterminate without a length
      text.textContent = total ? `${mb(loaded)} of ${mb(total)}` : mb(loaded);
    });
    setCheckpoint(ck, name);
  } catch (e) {
    setStatus('error');
    showError(info, new Error(`Could not load ${name}: ${(e as Error).message}`));
  }
}

/** The checkpoint list's entry for a model that is not one of the listed files. */
const CURRENT = '(current)';

/** Shows in the checkpoint list where the current model came from when it is not a list entry. */
function showModelSource(name: string): void {
  const select = $<HTMLSelectElement>('checkpoint-select');
  const listed = Array.from(select.options).find((o) => o.value === name);
  let current = Array.from(select.options).find((o) => o.value === CURRENT);
  if (listed) {
    current?.remove();
    select.value = name;
    return;
  }
  if (!current) {
    current = new Option('', CURRENT);
    select.add(current, 0);
  }
  current.text = name;
  select.value = CURRENT;
}

function setCheckpoint(ck: Checkpoint, name: string): void {
  state.checkpoint?.model.dispose();
  showModelSource(name);
  state.checkpoint = ck;
  state.checkpointName = name;
  state.disabled.clear();
  $('model-info').classList.remove('error');
  $('model-info').textContent = describe(ck, name);
  buildPartToggles(ck);
  const S = ck.spec.vit.imageSize;
  if (!state.samples || state.samples.imageSize !== S) {
    state.samples = new BenchmarkSamples(state.testObjects!, S);
    buildSampleButtons(state.samples);
  }
  // Keep the picture if it fits the new model; otherwise start from a generated one.
  if (!state.image || state.image.size !== S) state.image = state.samples.take(2);
  setStatus('ready');
  void refresh();
}

function buildPartToggles(ck: Checkpoint): void {
  const K = partCount(ck);
  const list = $('part-toggle-list');
  list.replaceChildren();
  $('part-toggles').hidden = K === 0;
  $('part-maps-block').hidden = K === 0;
  $('mask-empty').hidden = true;
  $('mask-figure').hidden = K === 0;
  $('parts-figure').hidden = K === 0;
  $('relevance-figure').hidden = K !== 0;
  for (let k = 0; k < K; k++) {
    const id = `part-toggle-${k}`;
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.id = id;
    box.checked = true;
    box.addEventListener('change', () => {
      if (box.checked) state.disabled.delete(k);
      else state.disabled.add(k);
      void refresh();
    });
    const label = document.createElement('label');
    label.htmlFor = id;
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = cssColour(partColour(k, K));
    swatch.setAttribute('aria-hidden', 'true');
    const share = document.createElement('span');
    share.id = `part-share-${k}`;
    share.className = 'muted';
    label.append(swatch, `Part ${k + 1}`, ' ', share); // the space keeps the accessible name "Part 1 0 patches"
    const row = document.createElement('div');
    row.append(box, label);
    list.append(row);
  }
}

function buildSampleButtons(samples: BenchmarkSamples): void {
  const box = $('sample-buttons');
  box.replaceChildren();
  samples.groupNames.forEach((name, g) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'secondary';
    b.textContent = name;
    b.title = `Another test image of ${name} each time`;
    b.addEventListener('click', () => {
      state.image = samples.take(g);
      void refresh();
    });
    box.append(b);
  });
}

// ------------------------------------------------------------------ images

async function useImageFile(file: File): Promise<void> {
  const ck = state.checkpoint;
  if (!ck) return;
  try {
    const S = ck.spec.vit.imageSize;
    const img = await decodeImageFile(file);
    state.image = { chw: toModelInput(img, S), size: S, source: `${file.name} (${img.width} × ${img.height})` };
    await refresh();
  } catch (e) {
    showError($('prediction'), new Error(`Could not use ${file.name}: ${(e as Error).message}`));
  }
}

// ------------------------------------------------------------------ prediction

let running: Promise<void> | null = null;
let again = false;

/** Re-runs the model on the current image; calls made while one runs coalesce into one more. */
async function refresh(): Promise<void> {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    do {
      again = false;
      const ck = state.checkpoint, image = state.image;
      if (!ck || !image) return;
      setStatus('busy');
      try {
        const p = await vit.predict(ck, image.chw, { disabledParts: [...state.disabled] });
        state.prediction = p;
        render(ck, image, p);
        state.predictions++;
        setStatus('ready');
      } catch (e) {
        setStatus('error');
        showError($('prediction'), e);
      }
    } while (again);
  })();
  try {
    await running;
  } finally {
    running = null;
  }
}

function render(ck: Checkpoint, image: ModelImage, p: Prediction): void {
  const S = p.imageSize, g = p.grid;
  const base = displayImage(image.chw, S);
  putRaster($<HTMLCanvasElement>('input-canvas'), base);
  $('input-canvas').setAttribute('aria-label', `Input image: ${image.source}`);

  const pred = $('prediction');
  pred.classList.remove('error');
  pred.replaceChildren();
  const head = document.createElement('div');
  const cls = document.createElement('span');
  cls.className = 'class';
  cls.textContent = ck.classNames[p.predicted]!;
  head.append('Prediction: ', cls, ` (${(100 * p.probs[p.predicted]!).toFixed(1)}%)`);
  // Benchmark images know their class: a wrong prediction is said, and the image framed in red.
  const known = image.group !== undefined && image.group.label < ck.classNames.length;
  const right = known && image.group!.label === p.predicted;
  const mark = $('verdict-mark');
  mark.hidden = !known;
  $('input-figure').classList.toggle('wrong', known && !right);
  $('input-figure').classList.toggle('right', right);
  if (known) {
    const verdict = document.createElement('span');
    verdict.id = 'verdict';
    verdict.className = `verdict ${right ? 'right' : 'wrong'}`;
    verdict.textContent = right ? '✓ right' : `✗ wrong: it is ${article(ck.classNames[image.group!.label]!)}`;
    head.append(verdict);
    mark.className = `verdict-mark ${right ? 'right' : 'wrong'}`;
    mark.textContent = right ? '— ✓ classified right' : '— ✗ classified wrong';
  }
  const truth = image.group ? ` — true class ${ck.classNames[image.group.label] ?? image.group.label}, ${image.group.name}` : '';
  const src = document.createElement('div');
  src.className = 'muted';
  src.textContent = `Image: ${image.source}${truth}`;
  const probs = document.createElement('div');
  probs.className = 'probs';
  ck.classNames.forEach((name, c) => {
    const label = document.createElement('span');
    label.id = `prob-label-${c}`;
    label.textContent = name;
    if (known && c === image.group!.label) {
      label.classList.add('truth');
      label.title = 'the true class';
    }
    const meter = document.createElement('meter');
    meter.min = 0;
    meter.max = 1;
    meter.value = p.probs[c]!;
    meter.setAttribute('aria-labelledby', label.id);
    const value = document.createElement('span');
    value.textContent = `${(100 * p.probs[c]!).toFixed(1)}%`;
    probs.append(label, meter, value);
  });
  pred.append(head, src, probs);

  if (p.mask && p.parts) {
    const K1 = p.parts.length / (g * g);
    const kept = p.mask.reduce((a, v) => a + v, 0);
    putRaster($<HTMLCanvasElement>('mask-canvas'), maskPicture(base, p.mask, g));
    const off = state.disabled.size ? ` with part${state.disabled.size > 1 ? 's' : ''} ${[...state.disabled].map((k) => k + 1).join(', ')} off` : '';
    $('mask-caption').textContent = `Hard mask${off}: stage 2 sees ${kept ? `only the ${kept} outlined` : 'none'} of the ${g * g} patches`;
    $('mask-canvas').setAttribute('aria-label', `Hard mask over the image: ${kept} of ${g * g} patches kept`);
    const empty = $('mask-empty');
    empty.hidden = kept > 0;
    if (!kept) {
      // Stage 2 attends to no patch, so only its class token is left: the same answer for any image.
      const K = K1 - 1;
      const why = state.disabled.size === K ? 'Every part is switched off, so the mask keeps no patch'
        : state.disabled.size ? 'The mask keeps no patch: on every patch the background or a switched-off part is the strongest'
        : 'The mask keeps no patch: on every patch the background is stronger than every part';
      empty.textContent = `${why}, and stage 2 sees nothing of this image. Its prediction then comes from its class token alone: `
        + 'it is the same for every image and says nothing about this one.'
        + (state.disabled.size ? ' Switch parts back on to give it patches again.' : '');
    }
    putRaster($<HTMLCanvasElement>('parts-canvas'), partsPicture(base, p.parts, K1, g, state.disabled));
    const shares = partShares(p.parts, K1, g);
    shares.slice(0, K1 - 1).forEach((n, k) => {
      const el = document.getElementById(`part-share-${k}`);
      if (el) el.textContent = `${n} patch${n === 1 ? '' : 'es'}`;
    });
    // The key under the part picture: each part's colour, faint when switched off.
    const key = $('parts-key');
    key.replaceChildren();
    for (let k = 0; k < K1; k++) {
      const item = document.createElement('span');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = cssColour(partColour(k, K1 - 1));
      if (state.disabled.has(k)) sw.style.opacity = '0.35';
      item.append(sw, k === K1 - 1 ? 'background' : `part ${k + 1}${state.disabled.has(k) ? ' (off)' : ''}`);
      key.append(item);
    }
    const maps = $('part-maps');
    maps.replaceChildren();
    for (let k = 0; k < K1; k++) {
      const fig = document.createElement('figure');
      const c = document.createElement('canvas');
      const name = k === K1 - 1 ? 'Background' : `Part ${k + 1}`;
      c.setAttribute('role', 'img');
      c.setAttribute('aria-label', `${name} assignment map`);
      putRaster(c, partMapPicture(p.parts, k, g));
      const cap = document.createElement('figcaption');
      cap.textContent = `${name}${state.disabled.has(k) ? ' (off)' : ''}`;
      cap.style.borderLeft = `0.6rem solid ${cssColour(partColour(k, K1 - 1))}`;
      cap.style.paddingLeft = '0.3rem';
      fig.append(c, cap);
      maps.append(fig);
    }
  }
  if (p.relevance) putRaster($<HTMLCanvasElement>('relevance-canvas'), relevancePicture(base, p.relevance, S));
}

/** "a sneaker", "an ankle-boot". */
function article(name: string): string {
  return `${/^[aeiou]/i.test(name) ? 'an' : 'a'} ${name}`;
}

// ------------------------------------------------------------------ training in the page

let stopRequested = false;
let trained: Checkpoint | null = null;
/** What the training plot shows; redrawn when the page's width changes. */
let curves: Curves = { loss: [], acc: [], worst: [], totalSteps: 60 };
const redrawCurves = () => drawCurves($<HTMLCanvasElement>('train-plot'), curves);
/** The training and validation objects, fetched when training first starts. */
let trainObjects: Promise<{ train: data.SampleObjects; val: data.SampleObjects }> | null = null;

async function startTraining(): Promise<void> {
  const status = $('train-status');
  const start = $<HTMLButtonElement>('train-start'), stop = $<HTMLButtonElement>('train-stop'), use = $<HTMLButtonElement>('train-use');
  const method = $<HTMLSelectElement>('train-method').value as TrainMethod;
  const steps = Math.round(Number($<HTMLInputElement>('train-steps').value));
  const batchSize = Math.round(Number($<HTMLInputElement>('train-batch').value));
  const lr = Number($<HTMLInputElement>('train-lr').value);
  status.classList.remove('error', 'ok');
  if (!(steps >= 1 && steps <= 5000) || !(batchSize >= 2 && batchSize <= 128) || !(lr > 0 && lr <= 0.1)) {
    showError(status, new Error('Steps must be 1–5000, batch size 2–128 and the learning rate in (0, 0.1].'));
    return;
  }
  curves = { loss: [], acc: [], worst: [], totalSteps: steps };
  const { loss, acc, worst } = curves;
  const plot = $<HTMLCanvasElement>('train-plot');
  const redraw = redrawCurves;
  redraw();
  stopRequested = false;
  status.classList.remove('stopped');
  document.body.dataset.training = 'running';
  start.disabled = true;
  stop.disabled = false;
  stop.textContent = 'Stop';
  use.disabled = true;
  trained?.model.dispose();
  trained = null;
  const t0 = performance.now();
  let lastEval = '';
  try {
    trainObjects ??= Promise.all([fetchDemoObjects('train'), fetchDemoObjects('val')]).then(([train, val]) => ({ train, val }));
    const objects = await trainObjects.catch((e: Error) => {
      trainObjects = null;
      throw new Error(`could not load the benchmark's training images: ${e.message}`);
    });
    trained = await trainTiny({ method, steps, batchSize, lr }, {
      onStep(step, value) {
        loss.push({ step, value });
        redraw();
        const perSec = (step * batchSize) / ((performance.now() - t0) / 1000);
        status.textContent = `Step ${step} of ${steps}: loss ${value.toFixed(3)} (${perSec.toFixed(1)} images/s)${lastEval}`;
      },
      onEval(e) {
        acc.push({ step: e.step, value: e.accuracy });
        worst.push({ step: e.step, value: e.worstGroup });
        lastEval = `; validation accuracy ${(100 * e.accuracy).toFixed(1)}%, worst group ${(100 * e.worstGroup).toFixed(1)}%`;
        plot.setAttribute('aria-label', `Training curves: at step ${e.step}, loss ${loss.at(-1)?.value.toFixed(3) ?? 'n/a'}, validation accuracy ${(100 * e.accuracy).toFixed(1)}%, worst group ${(100 * e.worstGroup).toFixed(1)}%`);
        redraw();
      },
      shouldStop: () => stopRequested,
    }, objects);
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    if (stopRequested && loss.length < steps) {
      // Stopped by the user: the model trained so far is kept, and can be used like a finished one.
      curves.stoppedAt = loss.length;
      redraw();
      status.classList.add('stopped');
      status.textContent = `Stopped at step ${loss.length} of ${steps} (${seconds} s)${lastEval}. The model trained so far is kept: use it above.`;
      document.body.dataset.training = 'stopped';
    } else {
      status.classList.add('ok');
      status.textContent = `Done: ${loss.length} steps in ${seconds} s${lastEval}.`;
      document.body.dataset.training = 'done';
    }
    use.disabled = false;
  } catch (e) {
    showError(status, new Error(`Training failed: ${(e as Error).message}`));
    document.body.dataset.training = 'failed';
  } finally {
    start.disabled = false;
    stop.disabled = true;
    stop.textContent = 'Stop';
  }
}

// ------------------------------------------------------------------ wiring

function wire(): void {
  const select = $<HTMLSelectElement>('checkpoint-select');
  select.addEventListener('change', () => {
    if (select.value !== CURRENT) void useCheckpoint(select.value);
  });
  $<HTMLInputElement>('checkpoint-file').addEventListener('change', (ev) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (f) void useCheckpoint(f);
  });
  $<HTMLInputElement>('image-file').addEventListener('change', (ev) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (f) void useImageFile(f);
  });
  const zone = $('drop-zone');
  zone.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (ev) => {
    ev.preventDefault();
    zone.classList.remove('dragging');
    const f = ev.dataTransfer?.files[0];
    if (!f) return;
    if (f.name.endsWith('.safetensors')) void useCheckpoint(f);
    else void useImageFile(f);
  });
  $('train-start').addEventListener('click', () => void startTraining());
  $('train-stop').addEventListener('click', () => {
    stopRequested = true;
    const stop = $<HTMLButtonElement>('train-stop');
    stop.disabled = true;
    stop.textContent = 'Stopping…';
  });
  // The plot is drawn at the width it is shown at: redraw when that changes (a rotated phone).
  new ResizeObserver(() => redrawCurves()).observe($('train-plot').parentElement!);
  $('train-use').addEventListener('click', () => {
    if (!trained) return;
    const ck = trained;
    trained = null; // the page's model now owns it
    $<HTMLButtonElement>('train-use').disabled = true;
    setCheckpoint(ck, 'the model trained in this page');
  });
}

function disableControls(): void {
  const controls = document.querySelectorAll<HTMLInputElement | HTMLButtonElement | HTMLSelectElement>('main input, main button, main select');
  for (let i = 0; i < controls.length; i++) controls[i]!.disabled = true;
}

async function main(): Promise<void> {
  setStatus('starting');
  (globalThis as { webfamDemo?: unknown }).webfamDemo = { state, refresh, useCheckpoint };
  wire();
  redrawCurves();
  const gpu = $('gpu-status');
  try {
    const adapter = await init();
    const name = [adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' ') || 'unnamed adapter';
    gpu.textContent = `WebGPU ready: ${name}.`;
    gpu.classList.add('ok');
  } catch (e) {
    setStatus('no-webgpu');
    showError(gpu, e);
    disableControls();
    return;
  }
  try {
    state.testObjects = await fetchDemoObjects('test');
  } catch (e) {
    setStatus('error');
    showError($('model-info'), new Error(`Could not load the benchmark's test images: ${(e as Error).message}`));
    return;
  }
  const param = new URLSearchParams(location.search).get('checkpoint');
  const select = $<HTMLSelectElement>('checkpoint-select');
  await useCheckpoint(param ?? select.value);
}

void main();
