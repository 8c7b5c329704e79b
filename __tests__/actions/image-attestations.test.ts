import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ARTIFACT_TYPES, listReferrers, readReferrer, referrersTag } from '../../src/oci/referrers.js';
import { Registry, digestOf } from '../../src/oci/registry.js';
import { ROOT, runAction, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { testRepo } from '../helpers/git.js';
import { goTool } from '../helpers/go-tools.js';

const REGISTRY = process.env.GO_SHIP_TEST_REGISTRY ?? '127.0.0.1:5055';
const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);

describeWith(
  'go, git and a registry',
  hasCommand('go', ['version']) &&
    hasCommand('git') &&
    hasCommand('curl', ['-fsS', `http://${REGISTRY}/v2/`]),
  'docker-multistage sbom and provenance: OCI artifacts that refer to the image',
  () => {
    test('each platform image gets its SBOM, the index its provenance; both read back by digest, by go-ship and by oras', async () => {
      const dir = join(tempDir('attest'), 'hello-svc');
      testRepo(dir, {
        from: join(ROOT, 'examples', 'hello-svc'),
        files: { '.gitignore': '/dist/\n' },
        message: 'init',
      });
      const b = await runAction('build-matrix', {
        workspace: dir,
        with: ['targets=linux/amd64,linux/arm64', 'version=1.2.3'],
      });
      expect(b.code).toBe(0);
      const image = `${REGISTRY}/go-ship-test/attest-${randomBytes(4).toString('hex')}`;
      const repo = image.slice(REGISTRY.length + 1);
      const r = await runAction('docker-multistage', {
        workspace: dir,
        with: [`image=${image}`, 'version=1.2.3', 'sbom=true', 'provenance=true'],
      });
      expect({ code: r.code, log: r.code ? r.stderr.slice(-2000) : '' }).toEqual({ code: 0, log: '' });
      const index = r.outputs.digest;
      const platforms = (
        JSON.parse(r.outputs.metadata) as {
          platforms: { digest: string; platform: { architecture: string } }[];
        }
      ).platforms;
      const sboms = JSON.parse(r.outputs.sboms) as { platform: string; image: string; digest: string }[];
      expect(sboms.map((s) => s.platform)).toEqual(['linux/amd64', 'linux/arm64/v8']);

      // go-ship's own reader: the registry (distribution 2.8, no referrers API) gets the referrers tag.
      const registry = new Registry(REGISTRY);
      expect(await registry.referrersApi(repo, index)).toBeUndefined();
      expect(await registry.getManifest(repo, referrersTag(index))).toBeDefined();
      for (const [i, p] of platforms.entries()) {
        const found = await listReferrers(registry, repo, p.digest, ARTIFACT_TYPES.sbom);
        expect(found.map((f) => f.digest)).toEqual([sboms[i].digest]);
        const doc = await readReferrer(registry, repo, found[0]);
        expect(await validator.validate(doc.toString('utf8'))).toBeNull();
        const bom = JSON.parse(doc.toString('utf8')) as {
          metadata: { component: { name: string; hashes: { content: string }[] } };
          components: { name: string; version?: string }[];
        };
        expect(bom.metadata.component.name).toBe(`${image}@${p.digest}`);
        expect(bom.metadata.component.hashes[0].content).toBe(p.digest.slice('sha256:'.length));
        expect(bom.components.map((c) => c.name)).toContain('hello-svc');
      }
      const [prov] = await listReferrers(registry, repo, index, ARTIFACT_TYPES.provenance);
      expect(prov.digest).toBe(r.outputs.provenance);
      const statement = JSON.parse((await readReferrer(registry, repo, prov)).toString('utf8')) as {
        _type: string;
        predicateType: string;
        subject: { name: string; digest: { sha256: string } }[];
      };
      expect(statement._type).toBe('https://in-toto.io/Statement/v1');
      expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
      expect(statement.subject.map((s) => `sha256:${s.digest.sha256}`)).toEqual([
        index,
        ...platforms.map((p) => p.digest),
      ]);
      // The subjects are what the registry serves under those digests.
      const served = await registry.getManifest(repo, index);
      expect(digestOf(served!.body)).toBe(index);

      // oras, an OCI client someone else wrote, finds the same artifacts through the same fallback.
      const oras = goTool('oras.land/oras/cmd/oras', 'v1.3.6');
      const discover = (digest: string) =>
        JSON.parse(
          execFileSync(oras, ['discover', '--plain-http', '--format', 'json', `${image}@${digest}`], {
            encoding: 'utf8',
          }),
        ) as {
          referrers?: { digest: string; artifactType: string }[];
          manifests?: { digest: string; artifactType: string }[];
        };
      const listed = (d: ReturnType<typeof discover>) =>
        (d.referrers ?? d.manifests ?? []).map((m) => [m.artifactType, m.digest]);
      expect(listed(discover(index))).toEqual([[ARTIFACT_TYPES.provenance, r.outputs.provenance]]);
      for (const [i, p] of platforms.entries())
        expect(listed(discover(p.digest))).toEqual([[ARTIFACT_TYPES.sbom, sboms[i].digest]]);

      // A re-run attaches the same SBOM bytes: the referrers tag keeps one entry per platform image.
      const again = await runAction('docker-multistage', {
        workspace: dir,
        with: [`image=${image}`, 'version=1.2.3', 'sbom=true'],
      });
      expect(again.code).toBe(0);
      expect(JSON.parse(again.outputs.sboms)).toEqual(sboms);
      const tagged = await registry.getManifest(repo, referrersTag(platforms[0].digest));
      expect((JSON.parse(tagged!.body.toString('utf8')) as { manifests: unknown[] }).manifests).toHaveLength(
        1,
      );
    }, 600_000);

    test('sbom in dockerfile mode and attestations without push are refused by name', async () => {
      const dir = tempDir('attest-bad');
      const bad = await runAction('docker-multistage', {
        workspace: dir,
        with: [`image=${REGISTRY}/x/y`, 'mode=dockerfile', 'sbom=true'],
      });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain('Input `sbom` got `true`; it accepts `true` in prebuilt or go mode');
      const nopush = await runAction('docker-multistage', {
        workspace: dir,
        with: [`image=${REGISTRY}/x/y`, 'push=false', 'provenance=true'],
      });
      expect(nopush.stderr).toContain('Input `provenance` got `true`; it accepts `true` with push: true');
    });
  },
);
