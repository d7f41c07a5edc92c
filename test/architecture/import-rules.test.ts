// The import rules of src/ (README, "Project layout"), read from the source itself:
// - the media core (src/media/) imports nothing outside src/media/ but Node built-ins and npm
//   packages, as nginx-vod-module's vod/ knows nothing of nginx;
// - the stages (request, access, selection, delivery, render, catalog, media, and packaging, the
//   packager's stage that left media/) never import Fastify: only routes/ know HTTP;
// - no two parts of src/ import each other, directly or round a longer loop. A part is a folder
//   under src/, or a file at src/'s top level;
// - only src/catalog/ knows the database: nothing else in src/ or routes/ imports better-sqlite3,
//   src/catalog/db.ts or the SQLite implementation (the rest holds a Catalog, src/catalog/store.ts,
//   whatever keeps it, and src/catalog/open.ts picks the implementation).
// Type-only imports count: they tie the folders together just the same.
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import t from 'tap';
import ts from 'typescript';
import { projectRoot } from '../helpers/repo.js';

const STAGES = ['request', 'access', 'selection', 'delivery', 'render', 'catalog', 'media', 'packaging'];
/** The SQLite implementation of the catalog: only src/catalog/ imports these. */
const SQLITE_FILES = ['db.ts', 'catalog.ts', 'ingest-store.ts', 'library-store.ts', 'kaltura-import.ts', 'async.ts', 'migrations.ts'].map((f) => `src/catalog/${f}`);
const isFastify = (spec: string): boolean => spec === 'fastify' || spec.startsWith('fastify/') || spec.startsWith('@fastify/') || spec === 'fastify-plugin';

interface Import {
  /** The importing file, relative to the tree's root (src/...). */
  file: string;
  spec: string;
  /** The imported file, relative to the root, for a relative specifier. */
  target: string | null;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every import, export-from and dynamic import() of every .ts file under root/src and root/routes. */
function importsOf(root: string): Import[] {
  const out: Import[] = [];
  const dirs = ['src', 'routes'].map((d) => join(root, d)).filter((d) => { try { return statSync(d).isDirectory(); } catch { return false; } });
  for (const path of dirs.flatMap(sourceFiles)) {
    const info = ts.preProcessFile(readFileSync(path, 'utf8'), true, true);
    for (const { fileName: spec } of info.importedFiles) {
      const target = spec.startsWith('.') ? relative(root, resolve(dirname(path), spec)).split(sep).join('/').replace(/\.js$/, '.ts') : null;
      out.push({ file: relative(root, path).split(sep).join('/'), spec, target });
    }
  }
  return out;
}

/** The part of src/ a path belongs to: "media/" for src/media/..., "errors.ts" for src/errors.ts. */
function partOf(path: string): string | null {
  const p = path.split('/');
  if (p[0] !== 'src' || p.length < 2) return null;
  return p.length === 2 ? p[1] : `${p[1]}/`;
}

/** The broken rules of the tree at root, one line each, naming the file and the import. */
export function importRuleViolations(root: string): string[] {
  const imports = importsOf(root);
  const broken: string[] = [];
  for (const i of imports) {
    if (i.file.startsWith('src/media/') && i.target !== null && !i.target.startsWith('src/media/')) {
      broken.push(`media core: ${i.file} imports ${i.spec} (outside src/media/)`);
    }
    const part = partOf(i.file);
    if (part && STAGES.includes(part.replace(/\/$/, '')) && isFastify(i.spec)) {
      broken.push(`stage imports Fastify: ${i.file} imports ${i.spec}`);
    }
    if (!i.file.startsWith('src/catalog/') && (i.spec === 'better-sqlite3' || (i.target !== null && SQLITE_FILES.includes(i.target)))) {
      broken.push(`database outside the catalog: ${i.file} imports ${i.spec}`);
    }
  }
  // the graph of parts, each edge with the imports that make it
  const edges = new Map<string, Map<string, string[]>>();
  for (const i of imports) {
    const a = partOf(i.file);
    const b = i.target ? partOf(i.target) : null;
    if (!a || !b || a === b) continue;
    if (!edges.has(a)) edges.set(a, new Map());
    const to = edges.get(a)!;
    if (!to.has(b)) to.set(b, []);
    to.get(b)!.push(`${i.file} imports ${i.spec}`);
  }
  // Tarjan's strongly connected components: every loop lies inside one with more than one part
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const loops: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) loops.push(comp.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  for (const comp of loops) {
    const inside = comp.flatMap((a) => [...(edges.get(a) ?? [])].filter(([b]) => comp.includes(b)).map(([b, why]) => `    ${a} -> ${b}: ${why.join('; ')}`));
    broken.push(`folder loop between ${comp.join(', ')}:\n${inside.join('\n')}`);
  }
  return broken;
}

const repo = projectRoot;

t.test('src/ keeps its import rules', async (t) => {
  const files = sourceFiles(join(repo, 'src'));
  t.ok(files.length > 100, `reads the whole tree (${files.length} files)`);
  t.ok(importsOf(repo).some((i) => i.file.startsWith('src/media/') && i.target?.startsWith('src/media/')), 'sees the media core importing itself');
  const broken = importRuleViolations(repo);
  t.same(broken, [], broken.join('\n'));
});

// README, "Project layout": of the media core, the delivery stage reads only its codec table.
t.test('src/delivery imports of src/media only codecs.ts', async (t) => {
  const media = importsOf(repo).filter((i) => i.file.startsWith('src/delivery/') && i.target?.startsWith('src/media/'));
  t.same([...new Set(media.map((i) => i.target))], ['src/media/codecs.ts'], media.map((i) => `${i.file} imports ${i.spec}`).join('\n'));
});

// The rules on small made-up trees: each one is really checked.
t.test('each rule fails on a tree that breaks it', async (t) => {
  const make = (files: Record<string, string>): string => {
    const root = mkdtempSync(join(tmpdir(), 'import-rules-'));
    t.teardown(() => rmSync(root, { recursive: true, force: true }));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  };
  const clean = make({
    'src/media/a.ts': "import { x } from './b.js';\nimport { readFile } from 'node:fs/promises';\nimport ts from 'typescript';\n",
    'src/media/b.ts': 'export const x = 1;\n',
    'src/packaging/p.ts': "import { x } from '../media/a.js';\nimport type { E } from '../errors.js';\n",
    'src/errors.ts': "import type { M } from './media/b.js';\nexport type E = 1;\n",
    'src/serve/s.ts': "import type { FastifyInstance } from 'fastify';\n",
  });
  t.same(importRuleViolations(clean), [], 'a tree that keeps the rules');

  const media = importRuleViolations(make({ 'src/media/a.ts': "import { DeliveryError } from '../errors.js';\n", 'src/errors.ts': '' }));
  t.match(media, [/media core: src\/media\/a\.ts imports \.\.\/errors\.js/]);
  const dynamic = importRuleViolations(make({ 'src/media/deep/a.ts': "export const f = () => import('../../catalog/c.js');\n", 'src/catalog/c.ts': '' }));
  t.match(dynamic, [/media core: src\/media\/deep\/a\.ts imports \.\.\/\.\.\/catalog\/c\.js/], 'a dynamic import from a subfolder');

  for (const stage of STAGES) {
    const broken = importRuleViolations(make({ [`src/${stage}/x.ts`]: "import type { FastifyRequest } from 'fastify';\nimport fp from 'fastify-plugin';\n" }));
    t.equal(broken.length, 2, `${stage} may not import fastify or fastify-plugin`);
  }

  const pair = importRuleViolations(make({
    'src/catalog/types.ts': "import type { Rule } from '../access/types.js';\n",
    'src/access/evaluate.ts': "export { Entry } from '../catalog/types.js';\n",
    'src/access/types.ts': '',
  }));
  t.equal(pair.length, 1);
  t.match(pair[0], /folder loop between access\/, catalog\//);
  t.match(pair[0], /access\/ -> catalog\/: src\/access\/evaluate\.ts imports \.\.\/catalog\/types\.js/);

  const db = importRuleViolations(make({
    'src/catalog/db.ts': "import Database from 'better-sqlite3';\n",
    'src/catalog/open.ts': "import { openDatabase } from './db.js';\n",
    'src/ingest/store.ts': "import type { Db } from '../catalog/db.js';\n",
    'src/api/x.ts': "import { createCatalog } from '../catalog/catalog.js';\nimport type { Catalog } from '../catalog/store.js';\n",
    'routes/health.ts': "import type { Statement } from 'better-sqlite3';\n",
  }));
  t.same(db, [
    'database outside the catalog: src/api/x.ts imports ../catalog/catalog.js',
    'database outside the catalog: src/ingest/store.ts imports ../catalog/db.js',
    'database outside the catalog: routes/health.ts imports better-sqlite3',
  ], 'only src/catalog/ imports the database');

  const ring = importRuleViolations(make({
    'src/ingest/a.ts': "import '../thumbnail/b.js';\n",
    'src/thumbnail/b.ts': "import '../config.js';\n",
    'src/config.ts': "import './ingest/a.js';\n",
  }));
  t.equal(ring.length, 1, 'a loop through three parts, a top-level file among them');
  t.match(ring[0], /folder loop between config\.ts, ingest\/, thumbnail\//);
});
