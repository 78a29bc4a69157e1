// The package contract: `import … from 'margay'` resolves through package.json "exports" to the
// built library, and parseSelector behaves as documented.
import { test } from 'node:test';
import assert from 'node:assert/strict';

test("import { parseSelector } from 'margay' works through the package exports", async () => {
  // A variable specifier keeps tsc from resolving the package before it is built.
  const packageName = 'margay';
  const margay = (await import(packageName)) as typeof import('../../src/index.js');
  const sel = margay.parseSelector("app == 'web' && has(tier)");
  assert.equal(sel.toString(), '(app == "web" && has(tier))');
  assert.equal(sel.matches({ app: 'web', tier: 'x' }), true);
  assert.equal(sel.matches({ app: 'web' }), false);
  assert.throws(() => margay.parseSelector('app == '), /position/);
});
