/**
 * `npm run arch-report [-- --json]`: the shape of src-main/ as docs/architecture.md describes it —
 * the folder tree (two levels), imports from the faces (api, cli, app, server) into db/ and dino/,
 * SQL sites outside db/, import cycles, file names two core files share, and the largest functions. Read from the TypeScript sources
 * with the compiler's own parser, so a comment or a string never counts as an import.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..');
const srcMain = join(root, 'src-main');
const FACES = ['api', 'cli', 'app', 'server'] as const;
/** not the core: the faces, the CLI's entry, benchmarks and test helpers (faces name files after their channels and commands) */
const OUTSIDE_CORE = new Set<string>([...FACES, 'entries', 'bench', 'testing']);
const CORE_ROOMS = ['db', 'dino'] as const;
// A statement to SQLite: prepare/exec/pragma on something that looks like a connection, or an SQL
// keyword opening a string literal.
const SQL_METHODS = new Set(['prepare', 'exec', 'pragma']);
const SQL_TEXT = /^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|WITH|BEGIN|COMMIT)\s/;

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'fixtures') continue;
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|js)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const isTest = (f: string): boolean => /\.(test|learn\.test)\.ts$/.test(f);
const rel = (f: string): string => relative(srcMain, f).split(sep).join('/');
const roomOf = (f: string): string => rel(f).split('/')[0] ?? '';

function resolveImport(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec);
  for (const c of [base, `${base}.ts`, `${base}.js`, join(base, 'index.ts')]) {
    try {
      if (statSync(c).isFile()) return c.endsWith('.js') && !c.startsWith(srcMain) ? null : c.replace(/\.js$/, '.ts');
    } catch {
      // try the next candidate
    }
  }
  return null;
}

interface FileFacts {
  file: string;
  imports: { target: string; typeOnly: boolean }[];
  sqlSites: { line: number; text: string }[];
  functions: { name: string; lines: number; line: number }[];
}

function factsOf(file: string): FileFacts {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const facts: FileFacts = { file, imports: [], sqlSites: [], functions: [] };
  const lineOf = (pos: number): number => sf.getLineAndCharacterOfPosition(pos).line + 1;
  const addImport = (spec: string, typeOnly: boolean): void => {
    const target = resolveImport(file, spec);
    if (target) facts.imports.push({ target, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      addImport(node.moduleSpecifier.text, node.importClause?.isTypeOnly ?? false);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      addImport(node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteral(arg)) addImport(arg.text, false);
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'URL') {
      // workers are started from `new URL('./workers/x.ts', import.meta.url)`: a runtime dependency
      const arg = node.arguments?.[0];
      if (arg && ts.isStringLiteral(arg) && arg.text.startsWith('.')) addImport(arg.text, false);
    }
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && SQL_TEXT.test(node.text)) {
      facts.sqlSites.push({ line: lineOf(node.getStart()), text: node.text.trim().split('\n')[0]!.slice(0, 70) });
    } else if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && SQL_METHODS.has(node.expression.name.text) && /\bdb$/.test(node.expression.expression.getText())) {
      const first = node.arguments[0];
      const literal = first && (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first) || ts.isTemplateExpression(first));
      // a literal argument is already counted as SQL text; a computed one is a site of its own
      if (!literal) facts.sqlSites.push({ line: lineOf(node.getStart()), text: node.getText().split('\n')[0]!.slice(0, 70) });
    }
    if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node)) {
      const lines = lineOf(node.getEnd()) - lineOf(node.getStart()) + 1;
      let name = node.name && ts.isIdentifier(node.name) ? node.name.text : '';
      if (!name && ts.isVariableDeclaration(node.parent) && ts.isIdentifier(node.parent.name)) name = node.parent.name.text;
      if (!name && ts.isPropertyAssignment(node.parent)) name = node.parent.name.getText();
      facts.functions.push({ name: name || '(anonymous)', lines, line: lineOf(node.getStart()) });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return facts;
}

/** Strongly connected components of the runtime import graph with more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const strong = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.map(rel).sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return out;
}

function tree(): string[] {
  const lines: string[] = [];
  for (const a of readdirSync(srcMain).sort()) {
    const p = join(srcMain, a);
    if (!statSync(p).isDirectory()) continue;
    const files = walk(p).filter((f) => !isTest(f));
    const direct = files.filter((f) => dirname(f) === p).length;
    lines.push(`${a}/ (${files.length} files${direct !== files.length ? `, ${direct} at the top` : ''})`);
    for (const b of readdirSync(p).sort()) {
      const q = join(p, b);
      if (statSync(q).isDirectory() && b !== 'fixtures') lines.push(`  ${b}/ (${walk(q).filter((f) => !isTest(f)).length} files)`);
    }
  }
  return lines;
}

const files = walk(srcMain).filter((f) => !isTest(f));
const facts = files.map(factsOf);
const graph = new Map(facts.map((f) => [f.file, f.imports.filter((i) => !i.typeOnly).map((i) => i.target)]));
const graphWithTypes = new Map(facts.map((f) => [f.file, f.imports.map((i) => i.target)]));

const faceImports: Record<string, Record<string, number>> = {};
for (const face of FACES) {
  faceImports[face] = {};
  for (const room of [...CORE_ROOMS, ...FACES.filter((f) => f !== face)]) {
    faceImports[face][room] = facts
      .filter((f) => roomOf(f.file) === face)
      .reduce((n, f) => n + f.imports.filter((i) => roomOf(i.target) === room).length, 0);
  }
}
const sqlOutsideDb = facts
  .filter((f) => roomOf(f.file) !== 'db')
  .flatMap((f) => f.sqlSites.map((s) => `${rel(f.file)}:${s.line}  ${s.text}`));
// one name, one file in the core (index.ts barrels aside): a name says what the file holds
const byName = new Map<string, string[]>();
for (const f of facts) {
  const name = rel(f.file).split('/').pop()!;
  if (OUTSIDE_CORE.has(roomOf(f.file)) || name === 'index.ts') continue;
  byName.set(name, [...(byName.get(name) ?? []), rel(f.file)]);
}
const sharedNames = [...byName].filter(([, paths]) => paths.length > 1).map(([name, paths]) => `${name}: ${paths.join(', ')}`);
const largest = facts
  .flatMap((f) => f.functions.map((fn) => ({ ...fn, where: `${rel(f.file)}:${fn.line}` })))
  .sort((a, b) => b.lines - a.lines)
  .slice(0, 5);
const report = {
  tree: tree(),
  faceImports,
  sqlOutsideDb,
  cycles: cycles(graph),
  cyclesWithTypeImports: cycles(graphWithTypes),
  sharedNames,
  largestFunctions: largest.map((f) => ({ name: f.name, lines: f.lines, where: f.where })),
};

if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else {
  const w = (s: string): boolean => process.stdout.write(`${s}\n`);
  w('src-main/ (non-test files)');
  report.tree.forEach((l) => w(`  ${l}`));
  w('\nimports from a face into db/, dino/ and the other faces');
  for (const [face, rooms] of Object.entries(faceImports)) {
    w(`  ${face}/: ${Object.entries(rooms).map(([r, n]) => `${r} ${n}`).join(', ')}`);
  }
  w(`\nSQL sites outside db/: ${sqlOutsideDb.length}`);
  sqlOutsideDb.forEach((s) => w(`  ${s}`));
  w(`\nimport cycles (runtime imports): ${report.cycles.length}`);
  report.cycles.forEach((c) => w(`  ${c.join(' -> ')}`));
  w(`import cycles, type-only imports included: ${report.cyclesWithTypeImports.length}`);
  report.cyclesWithTypeImports.forEach((c) => w(`  ${c.join(' -> ')}`));
  w(`\nfile names two core files share: ${sharedNames.length}`);
  sharedNames.forEach((n) => w(`  ${n}`));
  w('\nlargest functions');
  report.largestFunctions.forEach((f) => w(`  ${f.lines} lines  ${f.name}  ${f.where}`));
}
