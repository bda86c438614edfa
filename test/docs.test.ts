// The README stays short and every page of docs/ is reachable from it; no relative link of the README
// or of docs/ leads nowhere (a missing file, or a `#anchor` that no heading or named anchor gives).
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const README = path.join(ROOT, 'README.md');
const DOCS = path.join(ROOT, 'docs');
const MAX_README_LINES = 220;

const docsPages = (): string[] =>
  fs.readdirSync(DOCS).filter(name => name.endsWith('.md')).sort().map(name => path.join(DOCS, name));

/** The markdown outside fenced code blocks, line by line (a link in a code block is not a link). */
function proseLines(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker !== undefined) {
      fence = marker;
    } else if (fence !== undefined && marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) {
      fence = undefined;
    } else if (fence === undefined) {
      lines.push(line);
    }
  }
  return lines;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a markdown file gives: its headings' slugs (repeats numbered as GitHub does) and named anchors. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const slug = headingSlug(heading);
      const count = seen.get(slug) ?? 0;
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
      seen.set(slug, count + 1);
    }
    for (const tag of line.matchAll(/<a\s[^>]*>/g)) {
      for (const attribute of tag[0].matchAll(/\b(?:name|id)="([^"]+)"/g)) {
        anchors.add(attribute[1]);
      }
    }
  }
  return anchors;
}

/** The link targets of a markdown text: inline links and images, outside code. */
export function linksOf(markdown: string): string[] {
  const links: string[] = [];
  for (const line of proseLines(markdown)) {
    const withoutCode = line.replace(/`[^`]*`/g, '');
    for (const match of withoutCode.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push(match[1]);
    }
  }
  return links;
}

/** What is wrong with the relative links of one file: a missing target file or a missing anchor. */
export function brokenLinks(file: string): string[] {
  const problems: string[] = [];
  for (const link of linksOf(fs.readFileSync(file, 'utf-8'))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto: ...: not relative
    const hash = link.indexOf('#');
    const target = hash < 0 ? link : link.slice(0, hash);
    const anchor = hash < 0 ? undefined : decodeURIComponent(link.slice(hash + 1));
    const targetFile = target === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(target));
    const where = `${path.relative(ROOT, file)}: (${link})`;
    if (!fs.existsSync(targetFile)) {
      problems.push(`${where}: no file ${path.relative(ROOT, targetFile)}`);
      continue;
    }
    if (anchor !== undefined && anchor !== '') {
      if (!targetFile.endsWith('.md') || fs.statSync(targetFile).isDirectory()) {
        problems.push(`${where}: an anchor into a file that is not markdown`);
      } else if (!anchorsOf(fs.readFileSync(targetFile, 'utf-8')).has(anchor)) {
        problems.push(`${where}: no heading or anchor "#${anchor}" in ${path.relative(ROOT, targetFile)}`);
      }
    }
  }
  return problems;
}

describe('the README and docs/', () => {
  test(`the README has at most ${MAX_README_LINES} lines`, () => {
    const lines = fs.readFileSync(README, 'utf-8').replace(/\n$/, '').split('\n').length;
    expect(lines).toBeLessThanOrEqual(MAX_README_LINES);
  });

  test('docs/ has pages', () => {
    expect(docsPages().length).toBeGreaterThan(0);
  });

  test('the README links every page of docs/', () => {
    const linked = new Set(linksOf(fs.readFileSync(README, 'utf-8'))
      .filter(link => !/^[a-z][a-z0-9+.-]*:/i.test(link))
      .map(link => path.resolve(ROOT, decodeURIComponent(link.split('#')[0]))));
    const unlinked = docsPages().filter(page => !linked.has(page)).map(page => path.relative(ROOT, page));
    expect(unlinked).toEqual([]);
  });

  test('every relative link of the README and docs/ leads to a file and an anchor that exist', () => {
    const problems = [README, ...docsPages()].flatMap(brokenLinks);
    expect(problems).toEqual([]);
  });
});

describe('the link checks themselves', () => {
  test('slugs follow GitHub', () => {
    expect(headingSlug("Tick on the Lambda's CPU share")).toBe('tick-on-the-lambdas-cpu-share');
    expect(headingSlug('What the proxy changes')).toBe('what-the-proxy-changes');
    expect(headingSlug('Health, in a shared loop')).toBe('health-in-a-shared-loop');
    expect(headingSlug('The `ScalingLoop` and 1-2 s')).toBe('the-scalingloop-and-1-2-s');
  });

  test('a link to a missing file, a missing anchor, or a link inside code are told apart', () => {
    const dir = fs.mkdtempSync(path.join(ROOT, '.tmp-docs-test-'));
    try {
      fs.writeFileSync(path.join(dir, 'other.md'), '# Other page\n\n## A section\n\n### Type <a name="Type" id="api.Type"></a>\n');
      const page = path.join(dir, 'page.md');
      fs.writeFileSync(page, [
        '# Page', '',
        '[ok](other.md) [ok](other.md#a-section) [ok](other.md#api.Type) [ok](other.md#Type) [ok](#page) [ok](https://example.com/x#y)',
        '[no file](missing.md) [no anchor](other.md#no-such-section) [no anchor here](#nowhere)',
        '`[code](missing-in-code.md)`', '',
        '```ts', '[fenced](missing-in-fence.md)', '```', '',
      ].join('\n'));
      expect(brokenLinks(page).map(problem => problem.replace(/^.*?: \(/, '('))).toEqual([
        expect.stringMatching(/^\(missing\.md\): no file/),
        expect.stringMatching(/^\(other\.md#no-such-section\): no heading or anchor/),
        expect.stringMatching(/^\(#nowhere\): no heading or anchor/),
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
