// Compiles every TypeScript snippet of the pages in docs/ with jsii-rosetta, as `jsii-rosetta extract
// --strict` compiles the README's: the same fixture (rosetta/default.ts-fixture), the same dependencies
// (this package and its peers), strict mode, and a non-zero exit on any diagnostic.
//
// jsii-rosetta's CLI reads snippets only from assemblies (`extract`; its `markdown` command neither
// uses the fixture nor fails on a snippet that does not compile), so each page is handed to
// jsii-rosetta's own extraction as the README of a submodule of the compiled assembly (.jsii, after
// `compile`). Nothing is written: the tablet that ships stays the one `rosetta:extract` writes.
//
// Usage: ts-node -P tsconfig.dev.json projenrc/docs-snippets.ts [page.md ...]   (default: docs/*.md)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RosettaTranslator, TypeScriptSnippet } from 'jsii-rosetta';

// jsii-rosetta's assembly loading and snippet extraction (with fixtures and dependencies) are not in
// its package exports: load them by file path.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const assemblies = require(path.join(path.dirname(require.resolve('jsii-rosetta')), 'jsii', 'assemblies.js'));

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  const args = process.argv.slice(2);
  const pages = args.length > 0
    ? args.map(page => path.resolve(page))
    : fs.readdirSync(path.join(root, 'docs')).filter(name => name.endsWith('.md')).sort().map(name => path.join(root, 'docs', name));

  const [loaded] = assemblies.loadAssemblies([root], false);
  const docsAssembly = {
    ...loaded.assembly,
    readme: undefined,
    types: {},
    submodules: Object.fromEntries(pages.map(page => [
      path.relative(root, page),
      { readme: { markdown: fs.readFileSync(page, 'utf-8') } },
    ])),
  };
  const snippets: TypeScriptSnippet[] = (await assemblies.allTypeScriptSnippets([{ ...loaded, assembly: docsAssembly }], false))
    .map((snippet: TypeScriptSnippet) => ({ ...snippet, strict: true }));

  // Every TypeScript fence must have reached the compiler: a fence rosetta does not take for TypeScript
  // (```TS, say) would pass unchecked, and so would pages with no snippet found at all.
  const fences = pages.reduce((n, page) => n + (fs.readFileSync(page, 'utf-8').match(/^\s*(```|~~~)\s*(ts|typescript)\b/gim) ?? []).length, 0);
  if (snippets.length === 0 || snippets.length !== fences) {
    process.stderr.write(`docs:snippets: ${fences} TypeScript fences in ${pages.length} pages, but ${snippets.length} snippets reached the compiler: `
      + 'write each fence as ```ts\n');
    process.exitCode = 1;
    return;
  }
  const translator = new RosettaTranslator({ includeCompilerDiagnostics: true, assemblies: [loaded.assembly] });
  const result = await translator.translateAll(snippets, { addToTablet: false });
  for (const diagnostic of result.diagnostics) {
    process.stderr.write(`${diagnostic.formattedMessage}\n`);
  }
  if (result.diagnostics.length > 0) {
    process.stderr.write(`docs:snippets: ${result.diagnostics.length} diagnostics in ${snippets.length} snippets of ${pages.length} pages\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`docs:snippets: ${snippets.length} snippets of ${pages.length} pages compile\n`);
}

main().catch(error => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
