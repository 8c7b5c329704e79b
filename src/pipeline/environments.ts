import { join } from 'node:path';
import { shippedBinaries } from '../crossbuild/binaries.js';
import { sha256 } from '../runner/digest.js';
import { runLocalAction, type LocalRunResult } from '../host/local-runner.js';
import { UserError } from '../runner/errors.js';
import { formatDuration } from '../runner/log.js';
import { type Environment, actionsIn, readEnvironments } from '../runner/project-config.js';
import { findProjectConfig } from '../runner/project-file.js';
import { Summary, mdCode, mdText } from '../runner/summary.js';
import type { PipelineSecrets } from './secrets.js';

/** `.go-ship.yml`'s environments, or none when the file has none (or there is no file). */
export function projectEnvironments(workspace: string, root: string): Environment[] {
  const file = findProjectConfig(workspace);
  return file ? readEnvironments(file, actionsIn(root)) : [];
}

/** A glob as branch and tag rules write them: `*` within a path segment, `**` across them. */
export function globMatches(pattern: string, name: string): boolean {
  const re = pattern
    .split('**')
    .map((part) =>
      part
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*'),
    )
    .join('.*');
  return new RegExp(`^${re}$`).test(name);
}

/**
 * The environment a push deploys: the one whose `branch` matches the pushed branch, or whose `tags`
 * match the pushed tag (`ref` as GITHUB_REF has it). Environments fed by promotion are never chosen.
 */
export function environmentForRef(envs: Environment[], ref: string): Environment | undefined {
  const branch = ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
  const tag = ref.startsWith('refs/tags/') ? ref.slice('refs/tags/'.length) : undefined;
  return envs.find(
    (e) =>
      (branch !== undefined && e.branches.some((p) => globMatches(p, branch))) ||
      (tag !== undefined && e.tags.some((p) => globMatches(p, tag))),
  );
}

/** What each environment's rule is, for a message: `staging: branch develop; production: from staging`. */
export function describeRules(envs: Environment[]): string {
  return envs
    .map(
      (e) =>
        `${e.name}: ${e.from ? `promoted from ${e.from}` : [...e.branches.map((b) => `branch ${b}`), ...e.tags.map((t) => `tags ${t}`)].join(', ')}`,
    )
    .join('; ');
}

/** The deploy-bluegreen inputs an environment's step gets: its own, its name, the secrets that step needs. */
export function environmentInputs(env: Environment, secrets: PipelineSecrets): Record<string, string> {
  return {
    ...env.deploy,
    environment: env.name,
    kubeconfig: secrets.kubeconfig ?? '',
    'ssh-key': secrets.sshKey ?? '',
    'github-token': secrets.githubToken ?? '',
    notify: secrets.notify ?? '',
  };
}

export interface PromotionOptions {
  root: string;
  workspace: string;
  from: string;
  to: string;
  /** The version the person means to promote; refused unless it is what `from` runs, live and healthy. */
  version?: string;
  /** For servers: build-matrix's output-dir of the release, checked against what `from` runs. */
  build?: string;
  secrets: PipelineSecrets;
  env?: Record<string, string>;
  node?: string;
  onLine?: (line: string) => void;
}

export interface PromotionResult {
  from: string;
  to: string;
  version?: string;
  /** What both environments run once it passed: the image by digest, or the servers' binaries by sha256. */
  digest?: string;
  passed: boolean;
  /** Why it was refused or failed. */
  reason?: string;
  /** Each step: the source read, the deploy, the read-back. */
  steps: { name: string; ms: number; passed: boolean; detail: string }[];
  summary: string;
}

/**
 * Promotion of exactly what one environment runs to the next: the source's live version must answer
 * its health check and report its version through its public entry right now; what it runs is read
 * from the target by digest, deployed to the destination through the same gate, switch and verify as
 * any deploy, and read back from the destination. Nothing is rebuilt, and a promotion that the
 * configuration does not allow (`from`), of a version the source does not run healthy, or of an image
 * without a registry digest is refused before anything changes.
 */
export async function promote(o: PromotionOptions): Promise<PromotionResult> {
  const envs = projectEnvironments(o.workspace, o.root);
  const result: PromotionResult = { from: o.from, to: o.to, passed: false, steps: [], summary: '' };
  const find = (name: string, role: string) => {
    const e = envs.find((x) => x.name === name);
    if (!e)
      throw new UserError(
        `Cannot promote ${o.from} → ${o.to}: there is no environment \`${name}\` (${role}) in .go-ship.yml${envs.length ? `; it has ${describeRules(envs)}` : ' (it has no `environments` section)'}.`,
      );
    return e;
  };
  const source = find(o.from, 'the source');
  const dest = find(o.to, 'the destination');
  if (dest.from !== source.name)
    throw new UserError(
      `Cannot promote ${o.from} → ${o.to}: ${dest.name} ${dest.from ? `takes promotions from ${dest.from} only` : 'is not fed by promotion'} (.go-ship.yml: ${describeRules([dest])}). Set \`environments.${dest.name}.from: ${source.name}\` if that is the chain you want.`,
    );
  /** deploy-bluegreen as a step; its error lines are kept to say why it failed. */
  const errors = new Map<LocalRunResult, string>();
  const step = async (name: string, withs: Record<string, string>): Promise<LocalRunResult> => {
    const started = Date.now();
    o.onLine?.(`▶ ${name}`);
    let error = '';
    const r = await runLocalAction({
      actionDir: join(o.root, 'deploy-bluegreen'),
      with: Object.fromEntries(Object.entries(withs).filter(([, v]) => v !== '')),
      env: o.env ?? {},
      workspace: o.workspace,
      node: o.node,
      onLine: (line) => {
        const m = /^::error[^:]*::(.*)$/.exec(line);
        if (m) error = m[1].replace(/%0D/g, '').replace(/%0A/g, '\n').replace(/%25/g, '%').split('\n')[0];
        o.onLine?.(line);
      },
    });
    errors.set(r, error || `exit code ${r.exitCode}`);
    result.steps.push({
      name,
      ms: Date.now() - started,
      passed: r.exitCode === 0,
      detail: r.exitCode === 0 ? (r.outputs.outcome ?? '') : errors.get(r)!,
    });
    return r;
  };
  const lastError = (r: LocalRunResult) => errors.get(r) ?? '';
  const refuse = (reason: string): PromotionResult => {
    result.reason = reason;
    result.summary = promotionSummary(result);
    return result;
  };

  // 1. What the source runs, and whether it answers right now.
  const seen = await step(`read ${source.name}`, {
    ...environmentInputs(source, o.secrets),
    action: 'status',
  });
  if (seen.exitCode !== 0) return refuse(`Cannot read what ${source.name} runs: ${lastError(seen)}`);
  const live = seen.outputs;
  const version = live.version || undefined;
  result.version = version;
  if (!live['live-color'])
    return refuse(`Nothing is live in ${source.name}, so there is nothing to promote.`);
  if (o.version && o.version.replace(/^v/, '') !== version)
    return refuse(
      `Version ${o.version} is not what ${source.name} runs: ${source.name} runs ${version ?? 'a release without a version'} on ${live['live-color']}. A version that failed there, or never went there, is not promoted; deploy it to ${source.name} first.`,
    );
  if (live.healthy !== 'true')
    return refuse(
      live.url
        ? `${source.name}'s live version ${version ?? ''} does not answer its health check through ${live.url}; it is not promoted while it is unhealthy. See the read step's checks.`
        : `${source.name} has no \`url\` in .go-ship.yml, so whether its live version answers cannot be checked; it is not promoted unchecked.`,
    );
  const digest = live['image-digest'];
  const binaries = lines(live['binary-sha256']);
  if (!digest && binaries.length) return promoteBinaries(binaries);
  if (!digest)
    return refuse(
      `${source.name} runs ${live.image || 'a release'} with no registry digest (an image that was never pushed), so ${dest.name} could not be given the identical bytes. Deploy ${source.name} from a registry (the pipeline's image stage pushes by digest).`,
    );

  // 2. The same image, by digest, through the destination's own gate, switch and verify.
  const deployed = await step(`deploy ${dest.name}`, {
    ...environmentInputs(dest, o.secrets),
    image: digest,
    version: version ?? '',
  });
  if (deployed.exitCode !== 0) return refuse(`The deploy to ${dest.name} failed: ${lastError(deployed)}`);

  // 3. Read back: the destination runs exactly that digest.
  const back = await step(`read ${dest.name}`, { ...environmentInputs(dest, o.secrets), action: 'status' });
  if (back.outputs['image-digest'] !== digest)
    return refuse(
      `${dest.name} was deployed, but reads back ${back.outputs['image-digest'] || 'no digest'} instead of ${digest}.`,
    );
  result.digest = digest;
  result.passed = true;
  result.summary = promotionSummary(result);
  return result;

  /**
   * Servers: the release's build (build-matrix's output-dir, e.g. its GitHub Release assets) must hold
   * exactly the binaries the source's servers run, by sha256; the destination gets that build, and
   * every one of its servers must read back a binary of it.
   */
  async function promoteBinaries(running: string[]): Promise<PromotionResult> {
    if (!o.build)
      return refuse(
        `${source.name} runs binaries on servers (sha256 ${running.map((h) => h.slice(0, 12)).join(', ')}), and a promotion ships that same build: give its build-matrix output-dir (\`--with from=DIR\`, the root action's \`promote-build\`), e.g. the release's assets downloaded.`,
      );
    let built: string[];
    try {
      built = shippedBinaries(o.build, { wanted: serverPlatform }).binaries.map((b) => sha256(b.binary));
    } catch (e) {
      return refuse(`Cannot read the build in ${o.build}: ${(e as Error).message}`);
    }
    const missing = running.filter((h) => !built.includes(h));
    if (missing.length)
      return refuse(
        `The build in ${o.build} is not what ${source.name} runs: its servers run sha256 ${missing.map((h) => h.slice(0, 12)).join(', ')}, which the build does not hold (it holds ${built.map((h) => h.slice(0, 12)).join(', ') || 'no server binaries'}). Give the build of ${version ?? 'the live release'}.`,
      );
    const deployed = await step(`deploy ${dest.name}`, {
      ...environmentInputs(dest, o.secrets),
      from: o.build,
      version: version ?? '',
    });
    if (deployed.exitCode !== 0) return refuse(`The deploy to ${dest.name} failed: ${lastError(deployed)}`);
    const back = await step(`read ${dest.name}`, { ...environmentInputs(dest, o.secrets), action: 'status' });
    const now = lines(back.outputs['binary-sha256']);
    if (!now.length || now.some((h) => !built.includes(h)))
      return refuse(
        `${dest.name} was deployed, but its servers read back sha256 ${now.map((h) => h.slice(0, 12)).join(', ') || 'nothing'}, not the build's.`,
      );
    result.digest = now.map((h) => `sha256:${h}`).join(' ');
    result.passed = true;
    result.summary = promotionSummary(result);
    return result;
  }
}

const lines = (text: string | undefined): string[] => (text ?? '').split('\n').filter(Boolean);

/** What servers run: not Windows, not the browser. */
const serverPlatform = (t: string): boolean => !/^(windows|js|wasip1)\//.test(t);

function promotionSummary(r: PromotionResult): string {
  const s = new Summary().heading(`go-ship promote: ${mdText(r.from)} → ${mdText(r.to)}`);
  s.paragraph(
    r.passed
      ? `✅ ${mdText(r.to)} runs ${r.version ? mdCode(r.version) : 'the release'} by digest ${mdCode(r.digest!)}, the same as ${mdText(r.from)}.`
      : `❌ not promoted.\n\n> ${mdText(r.reason ?? '', 1000)}`,
  );
  if (r.steps.length)
    s.table(
      ['Step', 'Took', 'Result'],
      r.steps.map((x) => [
        mdText(x.name),
        formatDuration(x.ms),
        `${x.passed ? '✅' : '❌'} ${mdText(x.detail, 300)}`,
      ]),
      ['left', 'right', 'left'],
    );
  return s.toString();
}
