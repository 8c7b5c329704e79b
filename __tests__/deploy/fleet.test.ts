import type { DeployConfig } from '../../src/deploy/engine.js';
import { batchesOf, batchSize, runFleet, type Fleet } from '../../src/deploy/fleet.js';
import { parseHost } from '../../src/deploy/targets/hosts/ssh.js';
import { FakeTarget, fakeDeployConfig } from '../helpers/fake-target.js';
import { quietly } from '../helpers/quiet.js';

/**
 * The fleet's rules (batches, stop at the first failure, return what this run changed, leave the
 * rest alone, all locks or none) against targets in memory; the hosts target runs them end to end
 * over SSH in hosts.test.ts.
 */
const config = (image: string, over: Partial<DeployConfig> = {}): DeployConfig =>
  fakeDeployConfig('http://127.0.0.1:9/unused-each-member-has-its-own', {
    readyTimeoutMs: 1_000,
    verifyMs: 200,
    lockTimeoutMs: 0,
    release: { image, version: image === 'app:1' ? '1.0.0' : '2.0.0' },
    ...over,
  });

describe('batches', () => {
  test.each([
    ['1', 3, 1],
    ['2', 3, 2],
    ['5', 3, 3],
    ['50%', 3, 2],
    ['34%', 3, 2],
    ['33%', 3, 1],
    ['1%', 10, 1],
    ['100%', 10, 10],
  ])('batch %s of %i servers is %i at a time', (batch, n, size) => {
    expect(batchSize(batch, n)).toBe(size);
  });

  test.each(['0', '-1', '0%', '101%', 'half', '1.5', ''])('batch %p is refused by name', (batch) => {
    expect(() => batchSize(batch, 3)).toThrow(/Input `batch` got/);
  });

  test('members keep their order, the last batch takes what is left', () => {
    expect(batchesOf(['a', 'b', 'c', 'd', 'e'], 2)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });
});

describe('the hosts input', () => {
  test.each([
    ['deploy@web-1', { user: 'deploy', host: 'web-1', port: 22, label: 'deploy@web-1' }],
    ['root@10.0.0.5:2222', { user: 'root', host: '10.0.0.5', port: 2222 }],
    ['ops@[fd00::5]:22', { user: 'ops', host: '[fd00::5]', port: 22 }],
  ])('%s', (line, want) => {
    expect(parseHost(line)).toMatchObject(want);
  });

  test('a server behind a bastion names it; ssh-jump is the bastion of lines without their own', () => {
    const jump = parseHost('ops@bastion:2200', 'ssh-jump');
    expect(parseHost('deploy@10.0.2.7 via admin@gw', 'hosts', jump)).toMatchObject({
      host: '10.0.2.7',
      jump: { user: 'admin', host: 'gw', port: 22 },
      label: 'deploy@10.0.2.7 (via admin@gw)',
    });
    expect(parseHost('deploy@10.0.2.8', 'hosts', jump).jump).toMatchObject({ host: 'bastion', port: 2200 });
  });

  test.each([
    'web-1',
    'deploy@',
    'deploy@web-1:0',
    'deploy@web-1:70000',
    'deploy@-web',
    'de ploy@web',
    'deploy@web;rm -rf /',
    'deploy@web via',
    'a@b via c@d via e@f',
    'deploy@$(id)',
  ])('%p is refused, naming the input and what it accepts', (line) => {
    expect(() => parseHost(line)).toThrow(/hosts.*user@host/s);
  });
});

describe('a rolling deploy over a fleet of fake servers', () => {
  let members: FakeTarget[];
  const fleet = (batch = '1'): Fleet => ({
    batch,
    members: members.map((t, i) => ({ name: `web-${i + 1}`, target: t, url: () => t.url })),
    close: async () => {},
  });
  beforeEach(async () => {
    members = await Promise.all([1, 2, 3].map(() => FakeTarget.create()));
    for (const t of members) {
      t.behaviours.set('app:1', { version: '1.0.0' });
      t.behaviours.set('app:2', { version: '2.0.0' });
    }
    const first = await quietly(() => runFleet(config('app:1'), fleet('100%')));
    expect(first.outcome).toBe('switched');
    for (const t of members) t.calls.length = 0;
  });
  afterEach(() => Promise.all(members.map((t) => t.close())));

  test('batch by batch, each member checked through its own entry', async () => {
    const r = await quietly(() => runFleet(config('app:2'), fleet('2')));
    expect(r.outcome).toBe('switched');
    expect(r.batches).toEqual([['web-1', 'web-2'], ['web-3']]);
    expect(r.members.map((m) => m.outcome)).toEqual(['deployed', 'deployed', 'deployed']);
    for (const t of members) expect(t.state.live).toBe('green');
  });

  test('the first failure stops the rollout: the members it changed go back, the rest are not touched', async () => {
    members[1].behaviours.set('app:2', { version: '2.0.0', health: 'never' });
    const r = await quietly(() => runFleet(config('app:2'), fleet('1')));
    expect(r.outcome).toBe('rolled-back');
    expect(r.members.map((m) => m.outcome)).toEqual(['returned', 'failed', 'untouched']);
    expect(r.error).toMatch(/^web-2: /);
    for (const t of members) expect(t.state.live).toBe('blue');
    expect(members[2].calls.filter((c) => c !== 'lock' && c !== 'unlock')).toEqual([]);
  });

  test('a lock another deploy holds on one member: nothing changes on any, and it is named', async () => {
    members[2].lockHolder = { holder: 'run 7', since: 'earlier', expires: 'later' };
    await expect(quietly(() => runFleet(config('app:2'), fleet('1')))).rejects.toThrow(
      /lock on web-3: run 7.*Nothing was changed on any host/s,
    );
    for (const t of members) {
      expect(t.state.live).toBe('blue');
      expect(t.calls.some((c) => c.startsWith('start') || c.startsWith('route'))).toBe(false);
    }
  });
});
