import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';

/**
 * Files a newcomer can read: one concept a file, none over 400 lines (the import graph's own
 * rules are checked by dependency-cruiser: `npx projen test:imports`).
 */
const MAX_LINES = 400;
const SRC = path.join(__dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);
}

/** Lines as an editor counts them: a last line without its newline counts too. */
function lineCount(text: string): number {
  if (text === '') return 0;
  const parts = text.split('\n');
  return text.endsWith('\n') ? parts.length - 1 : parts.length;
}

test('lines are counted as an editor does', () => {
  expect([lineCount(''), lineCount('a'), lineCount('a\n'), lineCount('a\nb'), lineCount('a\nb\n')]).toEqual([0, 1, 1, 2, 2]);
});

test(`no file under src/ is over ${MAX_LINES} lines`, () => {
  const files = sourceFiles(SRC);
  expect(files.length).toBeGreaterThan(50);
  const long = files
    .map(f => ({ file: path.relative(SRC, f), lines: lineCount(readFileSync(f, 'utf8')) }))
    .filter(f => f.lines > MAX_LINES);
  expect(long).toEqual([]);
});
