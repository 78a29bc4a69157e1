// Two API servers on one etcd: a write through one is seen by a watch through the other.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_ETCD_BINARY, openStore, startEtcdServer, type EtcdServer, type Store } from '../store/index.js';
import { openWatch, send, startHarness, type Harness } from './testing.js';

const GNP = '/apis/projectcalico.org/v3/globalnetworkpolicies';

describe('two API servers on one etcd', { skip: existsSync(DEFAULT_ETCD_BINARY) ? false : 'etcd is not installed' }, () => {
  let etcd: EtcdServer;
  const stores: Store[] = [];
  const servers: Harness[] = [];

  before(async () => {
    etcd = await startEtcdServer();
    for (let i = 0; i < 2; i++) {
      const store = await openStore({ kind: 'etcd', endpoints: etcd.endpoints, prefix: '/margay-test' });
      stores.push(store);
      servers.push(await startHarness(store));
    }
  });
  after(async () => {
    for (const s of servers) await s.close();
    for (const s of stores) await s.close();
    await etcd.close();
  });

  it('a write through one appears on a watch through the other', async () => {
    const [a, b] = servers as [Harness, Harness];
    const w = await openWatch(b.port, `${GNP}?watch=1`);
    const created = await send(a.port, 'POST', GNP, { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'shared' }, spec: { selector: 'all()' } });
    assert.equal(created.status, 201, created.body);
    await w.waitFor(1, 10_000);
    assert.equal(w.events[0].type, 'ADDED');
    assert.equal(w.events[0].object.metadata.name, 'shared');
    assert.equal(w.events[0].object.metadata.resourceVersion, created.json.metadata.resourceVersion);
    const updated = await send(b.port, 'PATCH', `${GNP}/shared`, { spec: { order: 4 } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(updated.status, 200);
    const onA = await send(a.port, 'GET', `${GNP}/shared`);
    assert.equal(onA.json.spec.order, 4);
    await w.waitFor(2, 10_000);
    assert.equal(w.events[1].type, 'MODIFIED');
    // Optimistic concurrency holds across servers.
    const stale = await send(a.port, 'PUT', `${GNP}/shared`, created.json);
    assert.equal(stale.status, 409);
    w.close();
  });
});
