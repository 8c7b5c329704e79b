import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runAction, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { testRepo } from '../helpers/git.js';
import { pythonTool } from '../helpers/python-tools.js';

// build-matrix `provenance`: an in-toto SLSA Provenance v1 statement, read back strictly by the
// in-toto project's own bindings (in-toto-attestation: the Statement and Provenance protobufs).
const VALIDATE = `
import json, sys
from google.protobuf import json_format
from in_toto_attestation.v1.statement import Statement
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
doc = json.load(open(sys.argv[1]))
pb = json_format.ParseDict(doc, statement_pb2.Statement())  # unknown fields are errors
Statement.copy_from_pb(pb).validate()
prov = json_format.ParseDict(doc["predicate"], provenance_pb2.Provenance())
assert pb.predicate_type == "https://slsa.dev/provenance/v1", pb.predicate_type
assert prov.build_definition.build_type, "buildType"
assert prov.run_details.builder.id, "builder.id"
print(json.dumps({"subjects": [[s.name, s.digest["sha256"]] for s in pb.subject],
                  "builder": prov.run_details.builder.id,
                  "deps": [d.uri for d in prov.build_definition.resolved_dependencies]}))
`;

describeWith(
  'go, git and python3',
  hasCommand('go', ['version']) && hasCommand('git') && hasCommand('python3', ['--version']),
  'build-matrix provenance',
  () => {
    test('a SLSA Provenance v1 statement the in-toto bindings accept: every archive and SBOM by digest, the commit, the workflow run', async () => {
      const python = pythonTool('in-toto-attestation', '0.9.3');
      const { dir, git } = testRepo(join(tempDir('provenance'), 'hello-svc'), {
        from: join(ROOT, 'examples', 'hello-svc'),
        files: { '.gitignore': '/dist/\n' },
        message: 'feat: hello',
      });
      const r = await runAction('build-matrix', {
        workspace: dir,
        with: ['targets=linux/amd64,windows/amd64', 'version=1.2.3', 'sbom=true', 'provenance=true'],
        env: {
          GITHUB_REPOSITORY: 'o/r',
          GITHUB_SERVER_URL: 'https://github.com',
          GITHUB_WORKFLOW_REF: 'o/r/.github/workflows/release.yml@refs/heads/main',
          GITHUB_RUN_ID: '4242',
          GITHUB_RUN_ATTEMPT: '2',
          GITHUB_EVENT_NAME: 'push',
        },
      });
      expect(r.code).toBe(0);
      const file = r.outputs.provenance;
      expect(file).toBe(join(dir, 'dist', 'hello-svc_1.2.3.intoto.json'));
      const v = spawnSync(python, ['-c', VALIDATE, file], { encoding: 'utf8' });
      expect(v.stderr).toBe('');
      const read = JSON.parse(v.stdout) as { subjects: [string, string][]; builder: string; deps: string[] };
      // The subjects are exactly the checksums file's entries.
      const checksums = readFileSync(r.outputs['checksums-file'], 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split('  ').reverse());
      expect(read.subjects.sort()).toEqual(checksums.sort());
      expect(read.subjects).toHaveLength(4);
      expect(read.builder).toBe('https://github.com/o/r/.github/workflows/release.yml@refs/heads/main');
      expect(read.deps[0]).toBe('git+https://github.com/o/r@refs/heads/main');
      const doc = JSON.parse(readFileSync(file, 'utf8'));
      expect(doc.predicate.buildDefinition.resolvedDependencies[0].digest).toEqual({
        gitCommit: git('rev-parse', 'HEAD'),
      });
      expect(doc.predicate.runDetails.metadata.invocationId).toBe(
        'https://github.com/o/r/actions/runs/4242/attempts/2',
      );

      // The bindings are strict: a misspelt field is refused.
      doc.predicate.buildDefinition.buildTyp = doc.predicate.buildDefinition.buildType;
      delete doc.predicate.buildDefinition.buildType;
      const bad = join(tempDir('provenance-bad'), 'bad.json');
      writeFileSync(bad, JSON.stringify(doc));
      expect(spawnSync(python, ['-c', VALIDATE, bad], { encoding: 'utf8' }).status).not.toBe(0);
    }, 300_000);
  },
);
