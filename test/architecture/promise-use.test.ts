// The catalog answers promises (src/catalog/store.ts), and TypeScript accepts a forgotten await
// where a promise is used as a value: `if (!catalog.getEntry(id))` (a promise is truthy),
// `catalog.getEntry(id) ?? x`, `{ ...makeInput() }`, or a call whose refusal is its throw,
// `checkEntryAccess(...);`, left floating. This reads src/ and routes/ with the type checker and
// refuses each of those. A promise meant as a value is awaited; one left to run on its own is
// marked `void` (or ends in .catch/.then with a rejection handler).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import t from 'tap';
import ts from 'typescript';
import { projectRoot } from '../helpers/repo.js';

/** Each misuse as "file:line: what: code". */
export function promiseMisuses(root: string, fileNames: string[]): string[] {
  const program = ts.createProgram(fileNames, {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true, skipLibCheck: true, noEmit: true, types: ['node'],
  });
  const checker = program.getTypeChecker();
  const isPromise = (node: ts.Node): boolean => {
    const named = (x: ts.Type) => ['Promise', 'PromiseLike'].includes(x.getSymbol()?.getName() ?? '');
    const type = checker.getTypeAtLocation(node);
    return type.isUnion() ? type.types.some(named) : named(type);
  };
  // a promise that may be undefined is a pending-work slot (a Map of in-flight loads): its
  // truthiness is meant; only a promise that is always there is a forgotten await
  const alwaysPromise = (node: ts.Node): boolean => {
    const type = checker.getTypeAtLocation(node);
    return isPromise(node) && !(type.isUnion() && type.types.some((x) => x.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)));
  };
  const found: string[] = [];
  const say = (node: ts.Node, what: string) => {
    const sf = node.getSourceFile();
    const line = sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
    found.push(`${relative(root, sf.fileName)}:${line}: ${what}: ${node.getText().slice(0, 80)}`);
  };
  const handled = (e: ts.Expression): boolean => {
    // x.catch(f), x.then(f, g), x.finally(...) ending in one of those
    if (!ts.isCallExpression(e) || !ts.isPropertyAccessExpression(e.expression)) return false;
    const name = e.expression.name.text;
    if (name === 'catch') return true;
    if (name === 'then') return e.arguments.length >= 2;
    if (name === 'finally') return handled(e.expression.expression);
    return false;
  };
  const K = ts.SyntaxKind;
  for (const sf of program.getSourceFiles()) {
    if (sf.isDeclarationFile || !fileNames.includes(resolve(sf.fileName))) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isExpressionStatement(node)) {
        const e = node.expression;
        if ((ts.isCallExpression(e) || ts.isNewExpression(e)) && isPromise(e) && !handled(e)) say(e, 'a promise left floating');
      }
      if (ts.isBinaryExpression(node)) {
        const op = node.operatorToken.kind;
        if ([K.QuestionQuestionToken, K.BarBarToken, K.AmpersandAmpersandToken].includes(op) && alwaysPromise(node.left)) say(node.left, `a promise before ${node.operatorToken.getText()}`);
        if ([K.EqualsEqualsEqualsToken, K.ExclamationEqualsEqualsToken, K.EqualsEqualsToken, K.ExclamationEqualsToken, K.LessThanToken, K.GreaterThanToken,
          K.LessThanEqualsToken, K.GreaterThanEqualsToken].includes(op) && (alwaysPromise(node.left) || alwaysPromise(node.right))
          // two promises compared are the same pending work or not: meant
          && !(isPromise(node.left) && isPromise(node.right))) say(node, 'a promise compared');
      }
      if (ts.isPrefixUnaryExpression(node) && node.operator === K.ExclamationToken && alwaysPromise(node.operand)) say(node, 'a promise negated');
      if ((ts.isIfStatement(node) || ts.isWhileStatement(node) || ts.isDoStatement(node)) && alwaysPromise(node.expression)) say(node.expression, 'a promise as a condition');
      if (ts.isConditionalExpression(node) && alwaysPromise(node.condition)) say(node.condition, 'a promise as a condition');
      if (ts.isTemplateSpan(node) && isPromise(node.expression)) say(node.expression, 'a promise in a template');
      if ((ts.isSpreadElement(node) || ts.isSpreadAssignment(node)) && isPromise(node.expression)) say(node.expression, 'a promise spread');
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return found;
}

function tsFiles(dir: string): string[] {
  return ts.sys.readDirectory(dir, ['.ts'], ['**/*.d.ts']).map((f) => resolve(f));
}

const repo = projectRoot;

t.test('src/ and routes/ use no promise as a value and leave none floating', async (t) => {
  const files = [...tsFiles(join(repo, 'src')), ...tsFiles(join(repo, 'routes'))];
  t.ok(files.length > 100, `reads the whole tree (${files.length} files)`);
  const found = promiseMisuses(repo, files);
  t.same(found, [], found.join('\n'));
});

t.test('each misuse is found on a made-up file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'promise-use-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'x.ts');
  writeFileSync(file, [
    'declare function getEntry(id: string): Promise<{ id: string } | undefined>;',
    'declare function check(): Promise<void>;',
    'declare const slots: Map<string, Promise<void>>;',
    'export async function f(id: string) {',
    '  check();', // floating
    '  if (!getEntry(id)) return 1;', // negated
    '  const e = getEntry(id) ?? null;', // before ??
    '  const s = `${getEntry(id)}`;', // template
    '  const o = { ...getEntry(id) };', // spread
    '  if (getEntry(id)) return 2;', // condition
    '  if (getEntry(id) === undefined) return 3;', // compared
    '  void check();', // fine
    '  check().catch(() => undefined);', // fine
    '  if (!slots.get(id)) slots.set(id, check());', // fine: maybe-undefined slot
    '  return [e, s, o, await getEntry(id)];', // fine
    '}',
    '',
  ].join('\n'));
  const found = promiseMisuses(dir, [resolve(file)]);
  t.match(found, [
    /x\.ts:5: a promise left floating: check\(\)/,
    /x\.ts:6: a promise negated/,
    /x\.ts:7: a promise before \?\?/,
    /x\.ts:8: a promise in a template/,
    /x\.ts:9: a promise spread/,
    /x\.ts:10: a promise as a condition/,
    /x\.ts:11: a promise compared/,
  ]);
  t.equal(found.length, 7, found.join('\n'));
});
