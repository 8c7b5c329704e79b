import type { TagOutcome } from '../../release/tagging.js';
import { Summary, mdCode, mdText } from '../../runner/summary.js';

export function tagSummary(
  modulePath: string,
  branch: string,
  o: TagOutcome & { release?: string; majorTag?: string },
): Summary {
  const s = new Summary()
    .heading(
      `semver-tag: ${o.created ? `✅ tagged ${o.tag}` : o.plan.existing ? `already tagged ${o.tag}` : o.plan.next ? `${o.tag} (not tagged)` : 'nothing to release'}`,
    )
    .table(
      ['', ''],
      [
        ['module', mdCode(modulePath)],
        ['branch', mdText(branch)],
        ['previous release', o.plan.previous?.name ?? 'none'],
        ['bump', o.plan.bump],
        ['decided by', mdText(o.plan.decidedBy)],
        ['next', o.tag ?? ''],
        [
          'created',
          o.created ? `yes${o.attempts > 1 ? ` (after ${o.attempts - 1} lost race(s))` : ''}` : 'no',
        ],
        ...(o.release ? [['release', o.release]] : []),
        ...(o.majorTag ? [['moved', `${o.majorTag} → ${o.tag}`]] : []),
      ],
    );
  if (o.plan.decisions.length)
    s.details(
      `Commits since ${o.plan.previous?.name ?? 'the start'} (${o.plan.decisions.length})`,
      new Summary()
        .table(
          ['commit', 'subject', 'bump', 'why'],
          o.plan.decisions
            .slice(0, 100)
            .map((d) => [d.commit.sha.slice(0, 7), mdText(d.commit.subject), d.bump, mdText(d.reason)]),
        )
        .toString(),
    );
  if (o.changelog) s.details('Changelog', o.changelog);
  return s;
}
