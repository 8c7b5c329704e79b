import { eventPayload } from '../runner/workflow.js';
import { pullRequestOf, repositoryUrl } from '../github/rest.js';
import { UserError } from '../runner/errors.js';
import { registryCredentials } from './docker-config.js';
import { type TagDecision, decideTags } from './image-tags.js';
import { type ImageRef, Registry } from './registry.js';

export interface ImagePlan {
  /** The commit the image stands for. */
  sha: string;
  registry: Registry;
  repo: string;
  decisions: TagDecision[];
  tags: string[];
  /** OCI labels, also written as manifest and index annotations. */
  oci: Record<string, string>;
}

export interface ImageRequest {
  image: ImageRef;
  username?: string;
  password?: string;
  version?: string;
  /** Extra tags, as given. */
  tags: string[];
  latest: 'auto' | 'true' | 'false';
  labels: Record<string, string>;
  push: boolean;
}

/**
 * What both ways of making an image decide alike: the commit it stands for (the PR head on pull
 * requests), the tags by rule, and the OCI labels. `title` is the image's binary, when known.
 */
export async function planImage(
  req: ImageRequest,
  commit: string,
  created: number,
  title?: string,
): Promise<ImagePlan> {
  const pr = pullRequestOf(eventPayload());
  const ref = process.env.GITHUB_REF ?? '';
  const sha = pr?.headSha || process.env.GITHUB_SHA || commit;
  const registry = new Registry(
    req.image.registry,
    await registryCredentials(req.image.registry, { username: req.username, password: req.password }),
  );
  const repo = req.image.repository;
  const decisions = decideTags({
    version: req.version,
    sha,
    branch: !pr && ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined,
    pr: pr?.number,
    // push: false must not need the registry; latest is then judged on this version alone.
    existing: req.version && req.push ? await registry.listTags(repo) : [],
    latest: req.latest,
    extra: req.tags,
  });
  const tags = [...new Set(decisions.filter((d) => d.tag).map((d) => d.tag!))];
  if (!tags.length)
    throw new UserError('No tag rule produced a tag (see the summary); give `version` or `tags`.');
  const repoUrl = repositoryUrl();
  const oci: Record<string, string> = {
    'org.opencontainers.image.created': new Date(created * 1000).toISOString().replace('.000Z', 'Z'),
    'org.opencontainers.image.revision': sha,
    ...(req.version ? { 'org.opencontainers.image.version': req.version } : {}),
    ...(repoUrl
      ? { 'org.opencontainers.image.source': repoUrl, 'org.opencontainers.image.url': repoUrl }
      : {}),
    ...(title ? { 'org.opencontainers.image.title': title } : {}),
    ...req.labels,
  };
  return { sha, registry, repo, decisions, tags, oci };
}
