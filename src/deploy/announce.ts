import { type DeploymentLog, deploymentsProblem } from '../github/deployments.js';
import { type Notice, type NotifySettings, runContext, tell } from '../notify/notify.js';
import { formatDuration, log } from '../runner/log.js';
import type { DeployConfig } from './engine.js';

type Told = Omit<Notice, 'environment' | 'actor' | 'runUrl'>;

/**
 * Who hears about a deploy, promotion or rollback while it runs: `notify`'s channels, and GitHub's
 * Deployments of the environment (when the action names one and runs on GitHub with a token), so the
 * repository's Environments page and the pull request show what runs where. Neither ever fails the
 * deploy: what cannot be sent or recorded is a warning with the reason. A dry run or a status read
 * tells no one.
 */
export class Announcer {
  private deployment?: number;

  constructor(
    private readonly config: DeployConfig,
    private readonly notify: NotifySettings,
    private readonly deployments?: DeploymentLog,
  ) {}

  private get quiet(): boolean {
    return this.config.action === 'status' || this.config.dryRun;
  }

  private version(v: string | undefined): string | undefined {
    return v ? `v${v.replace(/^v/, '')}` : undefined;
  }

  async started(): Promise<void> {
    if (this.quiet) return;
    const c = this.config;
    const version = this.version(c.release?.version ?? c.rollbackTo);
    await tell(this.notify, {
      event: 'deploy-started',
      subject: c.app,
      version,
      detail: c.action === 'deploy' ? undefined : `action: ${c.action}`,
    });
    const environment = this.notify.environment;
    if (!this.deployments || !environment || !process.env.GITHUB_SHA) return;
    try {
      this.deployment = await this.deployments.begin({
        ref: process.env.GITHUB_SHA,
        environment,
        description: `${c.app}${version ? ` ${version}` : ''} (${c.action})`,
        payload: { app: c.app, version: version ?? '', action: c.action },
        logUrl: runContext().runUrl,
      });
    } catch (e) {
      log.warning(`No GitHub Deployment was recorded for ${environment}: ${deploymentsProblem(e)}`);
    }
  }

  /** A canary step below 100% that held for its judging time. */
  async canaryStep(percent: number): Promise<void> {
    await tell(this.notify, {
      event: 'canary-step',
      subject: this.config.app,
      version: this.version(this.config.release?.version),
      detail: `Takes ${percent}% of new requests and held its checks for ${formatDuration(this.config.stepMs)}.`,
      url: this.config.url,
    });
  }

  /**
   * The end, read as an event: switched is success (a rollback on request says so), rolled back or
   * failed is a failure with its reason. `version` is the one this run shipped (or failed to).
   */
  async ended(outcome: string, version: string | undefined, error?: string): Promise<void> {
    if (this.quiet) return;
    const c = this.config;
    const base = { subject: c.app, version: this.version(version), url: c.url };
    const n: Told | undefined =
      outcome === 'switched'
        ? c.action === 'rollback'
          ? { ...base, event: 'rolled-back', detail: 'Rolled back on request.' }
          : { ...base, event: 'deploy-succeeded' }
        : outcome === 'rolled-back'
          ? { ...base, event: 'rolled-back', detail: error }
          : outcome === 'failed'
            ? { ...base, event: 'deploy-failed', detail: error }
            : undefined;
    if (n) await tell(this.notify, n);
    // Previewing (auto-promote false) is not live yet: its Deployment stays in progress until promote.
    if (this.deployment === undefined || outcome === 'previewing') return;
    const live = outcome === 'switched' || outcome === 'unchanged';
    try {
      await this.deployments!.end(this.deployment, this.notify.environment!, live ? 'success' : 'failure', {
        environmentUrl: live ? c.url : undefined,
        logUrl: runContext().runUrl,
        description: live ? `${base.version ?? c.app} is live` : (error ?? outcome),
      });
    } catch (e) {
      log.warning(
        `The GitHub Deployment of ${this.notify.environment} was not updated: ${deploymentsProblem(e)}`,
      );
    }
  }
}
