// Asserts that two synthesized CloudFormation templates are equal, asset hashes aside:
// the content hash of an asset (the controller's bundle) names its S3 object and may differ
// by packaging, never by meaning. Prints the first differences and exits 1 when they differ.
// Usage: node compare-templates.js <expected.json> <actual.json> <label>
const assert = require('assert');
const fs = require('fs');

const [expectedFile, actualFile, label = actualFile] = process.argv.slice(2);

function normalize(template) {
  const text = JSON.stringify(template).replace(/\b[0-9a-f]{64}(\.zip|\.json)?\b/g, '<asset-hash>$1');
  const t = JSON.parse(text);
  // Added only when the CDK CLI runs the app (version reporting): not part of the stack's meaning.
  delete t.Resources?.CDKMetadata;
  delete t.Conditions?.CDKMetadataAvailable;
  return t;
}

function differences(a, b, path = '', out = []) {
  if (out.length >= 20) return out;
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || a === null || b === null || typeof a !== 'object') {
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${path || '/'}: expected ${JSON.stringify(a)?.slice(0, 200)}, got ${JSON.stringify(b)?.slice(0, 200)}`);
    return out;
  }
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) differences(a[key], b[key], `${path}/${key}`, out);
  return out;
}

const expected = normalize(JSON.parse(fs.readFileSync(expectedFile, 'utf8')));
const actual = normalize(JSON.parse(fs.readFileSync(actualFile, 'utf8')));
const diff = differences(expected, actual);
if (diff.length > 0) {
  console.error(`${label}: the template differs from the TypeScript app's:\n  ${diff.join('\n  ')}`);
  process.exit(1);
}
assert.deepStrictEqual(actual, expected);
console.log(`${label}: template equals the TypeScript app's (${Object.keys(actual.Resources).length} resources, asset hashes aside)`);
