// The YAML printer of change diffs reads back (with the yaml library) to the value it printed,
// for any JSON value; and a diff names exactly the changed lines.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse } from 'yaml';
import { changeDiff, yamlLines } from './index.js';

describe('change diffs', () => {
  it('property: yamlLines prints YAML that parses back to the same value', () => {
    const key = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('a', 'spec', 'true', '1', 'x: y', '- z', '#c', 'k8s.io/name'));
    const leaf = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)), fc.boolean(), fc.constant(null), fc.constantFrom('yes', 'null', '1.5', ' lead', 'trail ', 'a: b', '"q"', "it's", '@x', 'app == "web"', '10.0.0.0/8', '*', ''));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(key, tie('node'), { maxKeys: 3 }).map((d) => ({ ...d }))),
    })).node;
    const top = fc.dictionary(key, value, { maxKeys: 4 }).map((d) => ({ ...d }));
    fc.assert(
      fc.property(top, (v) => {
        const text = yamlLines(v).join('\n');
        assert.deepEqual(parse(text) ?? {}, v, text);
      }),
      { numRuns: 400 },
    );
  });

  it('diffs name the changed lines only', () => {
    const before = { spec: { order: 100, selector: 'app == "web"', types: ['Ingress'] } };
    const after = { spec: { order: 200, selector: 'app == "web"', types: ['Ingress', 'Egress'] } };
    assert.deepEqual(changeDiff({ before, after }), ['-   order: 100', '+   order: 200', '+   - Egress']);
    assert.deepEqual(changeDiff({ before: undefined, after: { a: 1 } }), ['+ a: 1']);
  });
});
