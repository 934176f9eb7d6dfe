/**
 * The folders are roles stacked in one order (docs/architecture.md): a file
 * imports only from its own folder or the ones below it, and api-proxy
 * reaches into the streamer's tree only through src/kernel.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** Bottom first. Folders on one line are side by side and must not import each other. */
const LAYERS: readonly (readonly string[])[] = [
  ['src/kernel'],
  ['src/audio', 'src/config'],
  ['src/ffmpeg'],
  ['src/decode'],
  ['src/acquire'],
  ['src/encode'],
  ['src/playout'],
  ['src/outputs', 'src/live'],
  ['src/api'],
  ['src'],
];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => path.resolve(path.dirname(file), m[1]!));
}

/** The role folder a path belongs to: the longest listed folder holding it. */
function roleOf(abs: string): string {
  const rel = path.relative(ROOT, abs);
  const parts = rel.split(path.sep);
  const two = parts.slice(0, 2).join('/');
  if (parts[0] === 'src' && parts.length > 2) return two;
  return parts[0] === 'src' ? 'src' : parts[0]!;
}

const level = (role: string): number => LAYERS.findIndex((l) => l.includes(role));

test('every folder of src/ has its place in the layers', () => {
  const folders = readdirSync(path.join(ROOT, 'src'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `src/${e.name}`);
  for (const f of folders) assert.notEqual(level(f), -1, `${f} is not in the layer list of this test (and of docs/architecture.md)`);
});

test('imports flow down the layers, never across or up', () => {
  const wrong: string[] = [];
  for (const file of tsFiles(path.join(ROOT, 'src'))) {
    const from = roleOf(file);
    for (const target of relativeImports(file)) {
      const to = roleOf(target);
      if (to === from) continue;
      if (level(to) >= level(from)) wrong.push(`${path.relative(ROOT, file)} -> ${path.relative(ROOT, target)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('api-proxy uses only the shared kernel of src/, and src/ never imports api-proxy', () => {
  const wrong: string[] = [];
  for (const file of tsFiles(path.join(ROOT, 'api-proxy'))) {
    for (const target of relativeImports(file)) {
      const to = roleOf(target);
      if (to !== 'api-proxy' && to !== 'src/kernel') wrong.push(`${path.relative(ROOT, file)} -> ${path.relative(ROOT, target)}`);
    }
  }
  for (const file of tsFiles(path.join(ROOT, 'src'))) {
    for (const target of relativeImports(file))
      if (roleOf(target) === 'api-proxy') wrong.push(`${path.relative(ROOT, file)} -> ${path.relative(ROOT, target)}`);
  }
  assert.deepEqual(wrong, []);
});
