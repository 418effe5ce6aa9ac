// Dead exports: fails when something src/ exports is used by no other file. Run by `npm run lint`.
//
// A use is any reference the type checker resolves to the export from another file of the project
// (src/, test/, bench/, the build scripts): an import, a re-export, a property of a module loaded
// with `await import(...)`, a destructured one. A module loaded where a contract is expected
// (`() => import("./commands/plan.js")` typed as returning a `CommandModule`) uses the exports the
// contract names. Tests count as users: an export that only a test imports is how a pure function
// is unit-tested. But a test must not be all that keeps code alive: an export that no file of src/
// uses, not even its own, is reported too ("used only by tests").
//
// `node check-exports.mjs` prints each finding as `file:line name (why)` and exits 1 if any.
import { relative, resolve } from "node:path";
import ts from "typescript";

const root = resolve(import.meta.dirname);
const config = ts.getParsedCommandLineOfConfigFile(resolve(root, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail(d.messageText) });
const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
const checker = program.getTypeChecker();
const own = program.getSourceFiles().filter((f) => !f.isDeclarationFile && !f.fileName.includes("/node_modules/"));
const rel = (f) => relative(root, f.fileName);
const inSrc = (f) => rel(f).startsWith("src/");

/** Each symbol's users: the files (other than its own) that reference it, and whether its own file does. */
const usedFrom = new Map();
const note = (symbol, file) => {
  if (symbol === undefined) return;
  // Through every re-export on the way: `export { x } from "./y.js"` is used when x is imported through it.
  for (let s = symbol; s !== undefined; s = s.flags & ts.SymbolFlags.Alias ? aliased(s) : undefined) {
    let files = usedFrom.get(s);
    if (files === undefined) usedFrom.set(s, (files = new Set()));
    if (files.has(file)) break;
    files.add(file);
  }
};

/** The symbol an alias names, one step on (a default import of CommonJS has no step: its end). */
function aliased(symbol) {
  try {
    return checker.getImmediateAliasedSymbol(symbol);
  } catch {
    const end = checker.getAliasedSymbol(symbol);
    return end === symbol ? undefined : end;
  }
}

function visit(node, file) {
  if (ts.isIdentifier(node)) {
    note(checker.getSymbolAtLocation(node), file);
    // `const { run } = await import(...)`: the name binds a property of the module.
    if (ts.isBindingElement(node.parent) && ts.isObjectBindingPattern(node.parent.parent)) {
      const name = node.parent.propertyName ?? node.parent.name;
      if (ts.isIdentifier(name)) note(checker.getTypeAtLocation(node.parent.parent).getProperty(name.text), file);
    }
  }
  // `import("./x.js")` where a contract is expected: the contract's properties are used.
  if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
    const contract = checker.getContextualType(node);
    const module = checker.getSymbolAtLocation(node.arguments[0]);
    const awaited = contract && checker.getAwaitedType(contract);
    if (awaited && module) for (const p of awaited.getProperties()) note(checker.tryGetMemberInModuleExports(p.name, module), file);
  }
  ts.forEachChild(node, (child) => visit(child, file));
}
for (const f of own) visit(f, f);

const findings = [];
for (const f of own.filter(inSrc)) {
  const module = checker.getSymbolAtLocation(f);
  if (module === undefined) continue;
  for (const exported of checker.getExportsOfModule(module)) {
    const declaration = exported.declarations?.[0];
    if (declaration === undefined || declaration.getSourceFile() !== f) continue; // a re-export: judged where it is declared
    const users = [...(usedFrom.get(exported) ?? [])];
    const others = users.filter((u) => u !== f);
    const why = others.length === 0 ? "used by no other file" : !users.some(inSrc) ? "used only by tests" : undefined;
    if (why === undefined) continue;
    const line = f.getLineAndCharacterOfPosition(declaration.getStart()).line + 1;
    findings.push(`${rel(f)}:${line} ${exported.name} (${why})`);
  }
}
// A shim's users are the packages build.mjs points at it (gray-matter's js-yaml), which the checker does not see.
const dead = findings.filter((f) => !f.startsWith("src/shims/"));
for (const line of dead) console.log(line);
if (dead.length) fail(`${dead.length} dead export${dead.length === 1 ? "" : "s"}: remove the export (or the code), or use it`);

function fail(message) {
  console.error(`check-exports: ${message}`);
  process.exit(1);
}
