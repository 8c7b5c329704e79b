import type { DeployConfig, DeployResult } from '../../deploy/engine.js';
import type { FleetResult, MemberResult } from '../../deploy/fleet.js';
import { hookOutcome, type HookRun } from '../../deploy/hooks.js';
import { COLORS } from '../../deploy/target.js';
import { formatBytes, formatDuration } from '../../runner/log.js';
import { Summary, mdCode, mdText } from '../../runner/summary.js';

const HEADLINE: Record<DeployResult['outcome'], string> = {
  switched: '✅ switched',
  unchanged: '✅ already live, nothing changed',
  previewing: '⏸️ deployed to the idle colour, waiting for promote',
  'rolled-back': '↩️ rolled back automatically',
  failed: '❌ failed, traffic not moved',
  status: 'ℹ️ status',
  planned: '📝 dry run: nothing was changed',
};

/**
 * The step summary: outcome, the key figures, a timeline of phases and every check with its result.
 * Versions, images, the lock's holder and the state come from the target (labels, annotations, the
 * upstream file) and check details from Prometheus and the app: outside text, made inert.
 */
export function renderSummary(config: DeployConfig, r: DeployResult): Summary {
  const s = new Summary();
  const what =
    r.action === 'deploy' && config.release
      ? ` ${mdText(config.release.version ?? config.release.image)}`
      : '';
  s.heading(`deploy-bluegreen: ${mdText(config.app)}${what} (${r.action})`);
  const live = r.live ? `**${r.live}**` : 'nothing';
  s.paragraph(
    `${HEADLINE[r.outcome]}. Live: ${live}${r.previous ? `; previous: ${r.previous}` : ''}.${r.error ? `\n\n> ${mdText(r.error.split('\n')[0], 1000)}` : ''}`,
  );
  const figures: [string, string][] = [];
  if (r.mixedWindowMs !== undefined)
    figures.push([
      'Mixed-version window (switch → the old version takes no new requests)',
      formatDuration(r.mixedWindowMs),
    ]);
  if (r.rollbackMs !== undefined)
    figures.push(['Failed check → traffic back on the old version', formatDuration(r.rollbackMs)]);
  const total = r.phases.length
    ? r.phases.at(-1)!.startMs + r.phases.at(-1)!.durationMs - r.phases[0].startMs
    : 0;
  if (total) figures.push(['Total', formatDuration(total)]);
  if (figures.length) s.table(['Figure', 'Value'], figures, ['left', 'right']);
  if (r.plan.length) s.details('Plan', r.plan.map((l) => `- ${mdText(l, 1000)}`).join('\n'));
  if (r.diff) s.heading('Server-side dry run', 3).code(r.diff, 'diff');
  if (r.phases.length) {
    s.table(
      ['Phase', 'Took', 'Result'],
      r.phases.map((p) => [
        mdText(p.name),
        formatDuration(p.durationMs),
        `${p.failed ? '❌' : '✅'}${p.note ? ` ${mdText(p.note)}` : ''}`,
      ]),
      ['left', 'right', 'left'],
    );
    s.timeline(`${config.app} ${r.action}`, r.phases);
  }
  if (r.hooks.length) renderHooks(s, r.hooks);
  if (r.checks.length)
    s.table(
      ['Phase', 'Check', 'Target', 'Attempts', 'Result'],
      r.checks.map((c) => [
        mdText(c.phase),
        mdText(c.what),
        mdCode(c.url),
        c.attempts,
        `${c.passed ? '✅' : '❌'} ${mdText(c.detail, 500)}`,
      ]),
      ['left', 'left', 'left', 'right', 'left'],
    );
  if (r.state) {
    s.table(
      ['Colour', 'State', 'Version', 'Image', 'Deployed'],
      COLORS.map((c) => {
        const st = r.state!.colors[c];
        return [
          `${c}${r.state!.live === c ? ' (live)' : ''}`,
          mdText(st.state),
          st.version ? mdCode(st.version) : '',
          st.image ? mdCode(st.image) : '',
          mdText(st.deployedAt ?? ''),
        ];
      }),
    );
    if (r.state.history?.length) {
      s.heading('Release history (newest first)', 3);
      s.table(
        ['Version', 'Image', 'Took the traffic'],
        [...r.state.history]
          .reverse()
          .map((h) => [h.version ? mdCode(h.version) : '', mdCode(h.image), mdText(h.at)]),
      );
      s.paragraph(
        '`action: rollback` with `to: <version>` deploys any of them again through the same checks.',
      );
    }
    if (r.state.lock)
      s.paragraph(
        `🔒 Locked by ${mdText(r.state.lock.holder)} since ${mdText(r.state.lock.since)} (expires ${mdText(r.state.lock.expires)}).`,
      );
  }
  return s;
}

/** The deploy hooks: what ran where, how it ended, and its last lines folded. */
function renderHooks(s: Summary, hooks: HookRun[]): void {
  s.table(
    ['Hook', 'Command', 'Where', 'Took', 'Result'],
    hooks.map((h) => [
      h.hook,
      mdCode(h.command),
      mdText(h.where),
      formatDuration(h.durationMs),
      `${h.passed ? '✅' : '❌'} ${mdText(hookOutcome(h))}`,
    ]),
    ['left', 'left', 'left', 'right', 'left'],
  );
  for (const h of hooks)
    if (h.output) s.details(`${h.hook}: its last lines`, new Summary().code(h.output).toString());
}

const MEMBER: Record<MemberResult['outcome'], string> = {
  deployed: '✅ deployed',
  unchanged: '✅ already live',
  failed: '❌ failed',
  returned: '↩️ returned to its release',
  untouched: '⏭️ not reached',
  status: 'ℹ️',
  planned: '📝 planned',
};

/**
 * target: hosts: the rollout as a table of servers by batch (server × version × colour × outcome),
 * then each server's own timeline and checks, folded.
 */
export function renderFleetSummary(config: DeployConfig, r: FleetResult): Summary {
  const s = new Summary();
  const what = r.action === 'deploy' && config.release?.version ? ` ${mdText(config.release.version)}` : '';
  s.heading(`deploy-bluegreen: ${mdText(config.app)}${what} on ${r.members.length} servers (${r.action})`);
  const headline: Record<FleetResult['outcome'], string> = {
    switched: '✅ every server switched',
    unchanged: '✅ already live everywhere, nothing changed',
    'rolled-back':
      '↩️ stopped at the first failure; the servers this run changed are back on the release they had',
    failed: '❌ failed',
    status: 'ℹ️ status',
    planned: '📝 dry run: nothing was changed',
  };
  s.paragraph(
    `${headline[r.outcome]}. Batches: ${r.batches.map((b) => b.length).join(' → ')}.${r.error ? `\n\n> ${mdText(r.error.split('\n')[0], 1000)}` : ''}`,
  );
  s.table(
    ['Batch', 'Server', 'Outcome', 'Live', 'Blue', 'Green', 'Sent', 'Took'],
    r.members.map((m) => {
      const st = m.result?.state;
      const colour = (c: 'blue' | 'green') =>
        st
          ? `${mdText(st.colors[c].state)}${st.colors[c].version ? ` ${mdCode(st.colors[c].version!)}` : ''}`
          : '';
      const phases = m.result?.phases ?? [];
      const took = phases.length ? phases.at(-1)!.startMs + phases.at(-1)!.durationMs - phases[0].startMs : 0;
      return [
        String(r.batches.findIndex((b) => b.includes(m.name)) + 1),
        mdCode(m.name),
        `${MEMBER[m.outcome]}${m.note ? ` (${mdText(m.note)})` : ''}${m.error ? `: ${mdText(m.error.split('\n')[0], 300)}` : ''}`,
        st?.live ?? '',
        colour('blue'),
        colour('green'),
        m.sent === undefined ? '' : formatBytes(m.sent),
        took ? formatDuration(took) : '',
      ];
    }),
    ['right', 'left', 'left', 'left', 'left', 'left', 'right', 'right'],
  );
  if (r.hooks?.length) {
    s.heading('Before traffic, once for the fleet', 3);
    renderHooks(s, r.hooks);
  }
  for (const m of r.members)
    if (m.result?.phases.length)
      s.details(`${m.name}: phases and checks`, renderSummary(config, m.result).toString());
  return s;
}
