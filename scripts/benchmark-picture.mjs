// Draws docs/benchmark-samples.png: the first test images of each group of the default benchmark,
// one row per group, with their object masks. Usage (after `npm run build`): node scripts/benchmark-picture.mjs
import { data } from '../dist/node/index.js';

const PER_GROUP = 6, S = 32, ZOOM = 3;
const source = await data.loadFashionMnist();
const ds = data.fashionBenchmark({ split: 'test', source });
const rows = ds.groupNames.map(() => []);
for (let i = 0; i < ds.length && rows.some((r) => r.length < PER_GROUP); i++) {
  const { label, place } = ds.labelOf(i);
  const row = rows[label * ds.numPlaces + place];
  if (row.length < PER_GROUP) row.push(i);
}
const tiles = [];
rows.forEach((row, g) => {
  for (const i of row) {
    const s = ds.get(i);
    tiles.push({ image: data.scaleImage(data.chwToImage(s.image, S, S), ZOOM), label: `${ds.groupNames[g]} #${i}` });
  }
  const s = ds.get(row[0]);
  tiles.push({ image: data.scaleImage(data.chwToImage(Float32Array.from([...s.mask, ...s.mask, ...s.mask]), S, S), ZOOM), label: `mask of #${row[0]}` });
});
await data.savePNG('docs/benchmark-samples.png', data.tileGrid(tiles, { columns: PER_GROUP + 1, title: 'Fashion-MNIST benchmark, test split: one row per group (class on place)' }));
console.log('wrote docs/benchmark-samples.png');
