// The op-case registry itself: every op family has its file in each layer under the same name,
// every family has cases that the suites run and bench cases that the benchmark times, every
// pointwise table entry is covered, and names and benchmark ids are unique.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { FAMILIES } from '../src/tensor/ops/names.js';
import { BINARY, UNARY } from '../src/shaders/pointwise.js';
import { BENCH_CASES, REGISTRY } from './cases/index.js';

test('each op family has a shader, an ops front-end, a reference, a case file and a suite of the same name', () => {
  for (const f of FAMILIES) {
    for (const file of [`src/shaders/${f}.ts`, `src/tensor/ops/${f}.ts`, `src/tensor/reference/${f}.ts`, `test/cases/${f}.ts`, `test/${f}.test.ts`]) {
      assert.ok(existsSync(file), `family ${f}: ${file} is missing`);
    }
  }
});

test('each family has test cases and bench cases, all of its own family', () => {
  for (const f of FAMILIES) {
    const { cases, benchCases } = REGISTRY[f];
    assert.ok(cases.length > 0, `${f}: no test cases`);
    assert.ok(benchCases.length > 0, `${f}: no bench cases`);
    for (const c of [...cases, ...benchCases]) assert.is(c.family, f, `${c.name} is filed under ${f}`);
  }
});

test('every pointwise table entry has a test case and a bench case', () => {
  const { cases, benchCases } = REGISTRY.pointwise;
  for (const op of [...Object.keys(UNARY), ...Object.keys(BINARY)]) {
    assert.ok(cases.some((c) => c.op === op), `${op}: no test case`);
    assert.ok(benchCases.some((c) => c.op === op), `${op}: no bench case`);
  }
});

test('case names and bench ids are unique', () => {
  const names = FAMILIES.flatMap((f) => REGISTRY[f].cases.map((c) => c.name));
  assert.equal(names.filter((n, i) => names.indexOf(n) !== i), [], 'repeated test case names');
  const ids = BENCH_CASES.map((c) => c.id);
  assert.equal(ids.filter((n, i) => ids.indexOf(n) !== i), [], 'repeated bench ids');
});

test.run();
