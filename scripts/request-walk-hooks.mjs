// Module hooks for scripts/request-walk.mjs: every named function declared on a line of its own in
// the built server (dist/src, dist/routes) first calls globalThis.__kdWalk(name), which records
// the call while a walk is being recorded. Nothing else in the code changes; the server is only
// loaded this way by that script.
const BUILT = /\/dist\/(src|routes)\/.*\.js$/;
// `function name(...) {`, `export function`, `async function`, `return function name(`: one line, body after it
const DECLARATION = /^(.*?\bfunction\*?\s+)([A-Za-z_$][\w$]*)(\s*\(.*\)\s*\{)\s*$/;

export async function load(url, context, nextLoad) {
  const loaded = await nextLoad(url, context);
  if (!BUILT.test(url) || loaded.format !== 'module') return loaded;
  const source = loaded.source.toString();
  const out = source.split('\n').map((line) => {
    const m = DECLARATION.exec(line);
    // a string or comment that happens to hold "function x(" is not a declaration
    if (!m || /^\s*(\/\/|\*)/.test(line) || /['"`]/.test(m[1])) return line;
    return `${line} globalThis.__kdWalk?.(${JSON.stringify(m[2])});`;
  });
  return { ...loaded, source: out.join('\n') };
}
