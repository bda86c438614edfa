// Asserts that two synthesized CloudFormation templates are equal, asset hashes included: the
// controller's bundle is an asset named by its content hash, so an equal hash shows that the
// wheel or the jar carries the same controller as the TypeScript source. Only CDKMetadata is
// left out. Prints the first differences and exits 1 when they differ.
// Usage: node compare-templates.js <expected.json> <actual.json> <label>
const assert = require('assert');
const fs = require('fs');

const [expectedFile, actualFile, label = actualFile] = process.argv.slice(2);

function withoutMetadata(template) {
  // Added only when the CDK CLI runs the app (version reporting): not part of the stack's meaning.
  delete template.Resources?.CDKMetadata;
  delete template.Conditions?.CDKMetadataAvailable;
  return template;
}

/** The asset hashes a template names (S3 object keys of file assets). */
function assetHashes(template) {
  return [...new Set(JSON.stringify(template).match(/\b[0-9a-f]{64}(?=\.zip\b|\.json\b)/g) ?? [])].sort();
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

const expected = withoutMetadata(JSON.parse(fs.readFileSync(expectedFile, 'utf8')));
const actual = withoutMetadata(JSON.parse(fs.readFileSync(actualFile, 'utf8')));
const expectedAssets = assetHashes(expected);
const actualAssets = assetHashes(actual);
if (expectedAssets.length === 0) {
  console.error(`${label}: ${expectedFile} names no asset: the controller's bundle is missing from the reference`);
  process.exit(1);
}
if (JSON.stringify(expectedAssets) !== JSON.stringify(actualAssets)) {
  console.error(`${label}: the controller's asset differs: ${actualAssets.join(', ') || 'none'} instead of ${expectedAssets.join(', ')}.\n`
    + '  The package carries another controller bundle than assets/controller: rebuild it (npx projen bundle, compile, package-all).');
  process.exit(1);
}
const diff = differences(expected, actual);
if (diff.length > 0) {
  console.error(`${label}: the template differs from the TypeScript app's:\n  ${diff.join('\n  ')}`);
  process.exit(1);
}
assert.deepStrictEqual(actual, expected);
console.log(`${label}: template equals the TypeScript app's (${Object.keys(actual.Resources).length} resources, controller asset ${expectedAssets.join(', ').slice(0, 12)}…)`);
