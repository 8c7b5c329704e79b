import { runCommand } from '../runner/command.js';
import type { BuildFlags } from './build.js';

/** GitHub's build type for a workflow run, as actions/attest-build-provenance records it. */
const WORKFLOW_BUILD_TYPE = 'https://actions.github.io/buildtypes/workflow/v1';
/** Outside GitHub Actions (the go-ship CLI, GitLab CI): go-ship's own build type, per action. */
const cliBuildType = (step: string) => `urn:go-ship:${step}:v1`;

/** The statement's file name beside the checksums: `<project>_<version>.intoto.json`. */
export const provenanceName = (project: string, version: string) => `${project}_${version}.intoto.json`;

/**
 * An in-toto Statement v1 with a SLSA Provenance v1 predicate for the release files (`subjects`:
 * name and sha256), unsigned: what was built (the files by digest), from what (the commit, the Go
 * toolchain), how (build-matrix's parameters) and by which run (the workflow and run, from the
 * runner's environment). Sign it with `cosign attest-blob` or let GitHub attest the checksums.
 */
export async function provenanceStatement(
  subjects: { name: string; sha256: string }[],
  build: BuildFlags & { targets: string[]; version: string; commit: string; workspace: string },
  startedOn: Date,
  env = process.env,
): Promise<Buffer> {
  const { targets, version, ldflags, tags, trimpath, strip, cgo } = build;
  return statementOf(
    subjects,
    {
      step: 'build-matrix',
      parameters: { buildMatrix: { targets, version, ldflags, tags, trimpath, strip, cgo } },
    },
    build,
    startedOn,
    env,
  );
}

/**
 * The same statement for any go-ship step: `parameters` are its external parameters (build-matrix's
 * flags, docker-multistage's image and platforms).
 */
export async function statementOf(
  subjects: { name: string; sha256: string }[],
  how: { step: string; parameters: Record<string, unknown> },
  build: { commit: string; workspace: string },
  startedOn: Date,
  env = process.env,
): Promise<Buffer> {
  const goVersion = (await runCommand('go', ['env', 'GOVERSION'], { cwd: build.workspace })).stdout.trim();
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
  const repoUrl = env.GITHUB_REPOSITORY ? `${server}/${env.GITHUB_REPOSITORY}` : undefined;
  const workflowRef = env.GITHUB_WORKFLOW_REF; // owner/repo/.github/workflows/x.yml@refs/heads/main
  const [workflowPath, ref] = workflowRef ? workflowRef.split('@') : [];
  const onActions = Boolean(workflowRef && env.GITHUB_RUN_ID);
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: subjects.map((s) => ({ name: s.name, digest: { sha256: s.sha256 } })),
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: onActions ? WORKFLOW_BUILD_TYPE : cliBuildType(how.step),
        externalParameters: {
          ...(onActions
            ? {
                workflow: {
                  ref,
                  repository: repoUrl,
                  path: workflowPath.split('/').slice(2).join('/'),
                },
              }
            : {}),
          ...how.parameters,
        },
        internalParameters: onActions
          ? {
              github: {
                event_name: env.GITHUB_EVENT_NAME,
                repository_id: env.GITHUB_REPOSITORY_ID,
                repository_owner_id: env.GITHUB_REPOSITORY_OWNER_ID,
                runner_environment: env.RUNNER_ENVIRONMENT,
              },
            }
          : {},
        resolvedDependencies: [
          ...(build.commit
            ? [
                {
                  uri: `git+${repoUrl ?? 'file://' + build.workspace}${ref ? `@${ref}` : ''}`,
                  digest: { gitCommit: build.commit },
                },
              ]
            : []),
          { uri: `pkg:golang/std@${goVersion}`, name: 'go' },
        ],
      },
      runDetails: {
        builder: { id: onActions ? `${server}/${workflowRef}` : cliBuildType(how.step) },
        metadata: {
          ...(onActions
            ? {
                invocationId: `${repoUrl}/actions/runs/${env.GITHUB_RUN_ID}/attempts/${env.GITHUB_RUN_ATTEMPT ?? '1'}`,
              }
            : {}),
          startedOn: startedOn.toISOString(),
          finishedOn: new Date().toISOString(),
        },
      },
    },
  };
  return Buffer.from(`${JSON.stringify(statement, null, 2)}\n`);
}
