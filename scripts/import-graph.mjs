#!/usr/bin/env node
// The import graph of src/ by folder (layer), and the checks on it: every
// import points down the layer order below, and no module imports itself
// back through others. Prints the folder graph (with the count of module
// imports on each edge; "type" when only type imports make it), then every
// upward edge and every cycle, and exits 1 if there is any.
//
//   node scripts/import-graph.mjs           the graph and the violations
//   node scripts/import-graph.mjs --json    the same as JSON
//   node scripts/import-graph.mjs --modules every module-level edge too
//
// It also lists source files over MAX_LINES lines (generated tables
// excepted): a module that long holds more than one concern.
//
// A type-only import (`import type`, or every name marked `type`) is still a
// dependency: it says which layer knows about which, so it must point down
// too. A runtime import cycle (modules whose values need each other, so one
// of them sees the other half-initialised) fails; modules of one folder may
// name each other's types (a VNode opens a FileDescription, which knows its
// Loc): those cycles are listed, not failed. Upward imports being refused,
// every cycle lies within one folder.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src');

/**
 * The layers, lowest first. A module may import from its own layer and from
 * any layer below it, never from one above. Folders under src/ name the layer;
 * a file directly in src/ is a layer of its own name.
 */
export const LAYERS = [
  ['abi'], // Linux's numbers, errno, constants, error classes: imports nothing
  ['host'], // the host's libc and clock through koffi
  ['mm'], // address spaces: host memory, VMAs, guest-memory access
  ['cpu'], // the Unicorn binding, one engine per arch, what each arch's registers and ABI are
  ['loader'], // ELF parsing and the initial image
  ['ctx'], // what every subsystem may know of a caller: credentials, wait queues
  ['fs'], // the VFS, open files, pipes, ttys, epoll
  ['ipc'], // System V IPC: shared memory, semaphores, message queues
  ['net'], // sockets
  ['proc'], // the kernel: processes, threads, scheduler, signals, exec, fork
  ['procfs'], // /proc: a file system that shows the kernel's tables
  ['syscalls'], // the table: declarations, handlers, dispatch, tracing
  ['index', 'compare'], // the Machine (library API) wires the table into the kernel; the oracle runner
  ['cli'], // the command line
];

/** Within one layer, which folder may import which (a partial order). */
const SAME_LAYER = {};

/** No hand-written module is longer than this. */
export const MAX_LINES = 600;
/** Files written by scripts (scripts/gen-tables.py). */
const GENERATED = new Set(['abi/errno.ts', 'abi/numbers.ts']);

function layerOf(folder) {
  const i = LAYERS.findIndex((l) => l.includes(folder));
  return i;
}

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every import of a module: { spec, typeOnly }. Comments are stripped first. */
function importsOf(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out = [];
  const re = /\b(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (let m; (m = re.exec(code)); ) {
    if (m[4] !== undefined) {
      const clause = m[3];
      let typeOnly = m[2] !== undefined;
      if (!typeOnly && /^\{[\s\S]*\}$/.test(clause.trim())) {
        const names = clause.trim().slice(1, -1).split(',').map((s) => s.trim()).filter(Boolean);
        typeOnly = names.length > 0 && names.every((n) => n.startsWith('type '));
      }
      out.push({ spec: m[4], typeOnly });
    } else out.push({ spec: m[5] ?? m[6], typeOnly: false });
  }
  return out;
}

function folderOf(file) {
  const rel = relative(srcDir, file);
  const parts = rel.split('/');
  return parts.length === 1 ? parts[0].replace(/\.ts$/, '') : parts[0];
}

/** Hand-written source files over MAX_LINES lines: [path, lines]. */
export function longFiles() {
  const out = [];
  for (const f of walk(srcDir)) {
    const rel = relative(srcDir, f);
    const n = readFileSync(f, 'utf8').split('\n').length - 1;
    if (n > MAX_LINES && !GENERATED.has(rel)) out.push([rel, n]);
  }
  return out;
}

export function graph() {
  const files = walk(srcDir);
  const modules = new Map(); // rel path -> [{ to, typeOnly }]
  for (const f of files) {
    const deps = [];
    for (const { spec, typeOnly } of importsOf(readFileSync(f, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(f), spec).replace(/\.js$/, '.ts');
      deps.push({ to: relative(srcDir, target), typeOnly });
    }
    modules.set(relative(srcDir, f), deps);
  }
  return modules;
}

function check(modules) {
  const edges = new Map(); // "a -> b" -> { n, value }
  const upward = [];
  for (const [from, deps] of modules) {
    const fa = folderOf(join(srcDir, from));
    for (const d of deps) {
      const fb = folderOf(join(srcDir, d.to));
      if (fa === fb) continue;
      const key = `${fa} -> ${fb}`;
      const e = edges.get(key) ?? { n: 0, value: false };
      e.n++;
      e.value ||= !d.typeOnly;
      edges.set(key, e);
      const la = layerOf(fa);
      const lb = layerOf(fb);
      const sameOk = la === lb && (SAME_LAYER[fa] ?? []).includes(fb);
      if (la < 0 || lb < 0 || lb > la || (la === lb && !sameOk))
        upward.push(`${from} -> ${d.to}${d.typeOnly ? ' (type)' : ''}`);
    }
  }
  // cycles between modules: Tarjan's strongly connected components
  const cycles = [];
  const valueOnly = (deps) => deps.filter((d) => !d.typeOnly);
  for (const mode of ['all', 'value']) {
    let index = 0;
    const idx = new Map();
    const low = new Map();
    const stack = [];
    const on = new Set();
    const strong = (v) => {
      idx.set(v, index);
      low.set(v, index++);
      stack.push(v);
      on.add(v);
      const deps = modules.get(v) ?? [];
      for (const { to } of mode === 'all' ? deps : valueOnly(deps)) {
        if (!modules.has(to)) continue;
        if (!idx.has(to)) {
          strong(to);
          low.set(v, Math.min(low.get(v), low.get(to)));
        } else if (on.has(to)) low.set(v, Math.min(low.get(v), idx.get(to)));
      }
      if (low.get(v) === idx.get(v)) {
        const comp = [];
        let w;
        do {
          w = stack.pop();
          on.delete(w);
          comp.push(w);
        } while (w !== v);
        if (comp.length > 1) cycles.push({ mode, modules: comp.sort() });
      }
    };
    for (const v of modules.keys()) if (!idx.has(v)) strong(v);
  }
  return { edges, upward, cycles };
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const modules = graph();
  const { edges, upward, cycles } = check(modules);
  const long = longFiles();
  const json = process.argv.includes('--json');
  const withModules = process.argv.includes('--modules');
  if (json) {
    const out = {
      layers: LAYERS,
      edges: [...edges].map(([k, e]) => ({ edge: k, imports: e.n, typeOnly: !e.value })),
      upward,
      cycles,
      longFiles: long,
    };
    if (withModules) out.modules = Object.fromEntries(modules);
    console.log(JSON.stringify(out, null, 2));
  } else {
    console.log('layers, lowest first: ' + LAYERS.map((l) => l.join('+')).join(' <- '));
    console.log(`\nfolder edges (${edges.size}):`);
    for (const [k, e] of [...edges].sort()) console.log(`  ${k.padEnd(26)} ${String(e.n).padStart(3)}${e.value ? '' : ' type'}`);
    if (withModules) {
      console.log('\nmodule edges:');
      for (const [m, deps] of [...modules].sort()) for (const d of deps) console.log(`  ${m} -> ${d.to}${d.typeOnly ? ' (type)' : ''}`);
    }
    console.log(`\nupward imports (${upward.length}):`);
    for (const u of upward) console.log('  ' + u);
    const runtime = cycles.filter((c) => c.mode === 'value');
    console.log(`\nruntime import cycles (${runtime.length}):`);
    for (const c of runtime) console.log(`  ${c.modules.join(' ')}`);
    const typeOnly = cycles.filter((c) => c.mode === 'all');
    console.log(`\nmodules that name each other's types, within a folder (${typeOnly.length} groups):`);
    for (const c of typeOnly) console.log(`  ${c.modules.join(' ')}`);
    console.log(`\nfiles over ${MAX_LINES} lines (${long.length}):`);
    for (const [f, n] of long) console.log(`  ${f} ${n}`);
  }
  process.exit(upward.length > 0 || cycles.some((c) => c.mode === 'value') || long.length > 0 ? 1 : 0);
}
