/**
 * One event, shaped for each kind of destination: a Slack Block Kit message, a Teams Workflows
 * message carrying an Adaptive Card, a Matrix `m.room.message`, an email, and a Standard Webhooks
 * body (`{type, timestamp, data}`). Every shape says who, when (UTC), what, and links back.
 * Pure functions of the stored event, so every retry sends the same thing.
 */
import type { NotificationEvent } from '../../shared/notifications.js';

const MAX_DETAIL_CHARS = 1500;

/** `2026-03-04 06:12:30 UTC` */
export function utc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

const clip = (text: string, max = MAX_DETAIL_CHARS) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const who = (e: NotificationEvent) => e.actor?.name ?? (e.type.startsWith('alert.') ? e.alert?.source ?? 'monitoring' : 'Bridgelog');

/** The lines that say more than the summary (plain text). */
export function details(e: NotificationEvent): string[] {
  const out: string[] = [];
  for (const c of e.changes ?? []) out.push(`${c.field}: ${c.from ?? '—'} → ${c.to ?? '—'}`);
  if (e.milestone) out.push(`${e.milestone.label} at ${utc(e.milestone.at)}`);
  if (e.entry?.conclusion) out.push(clip(e.entry.conclusion));
  if (e.hypothesis) out.push(`“${clip(e.hypothesis.statement, 500)}” — ${e.hypothesis.status}`);
  if (e.alert) out.push(`${e.alert.title} (${e.alert.status}, from ${e.alert.source})${e.alert.url ? ` ${e.alert.url}` : ''}`);
  for (const t of e.tests ?? []) out.push(`• ${clip(t.title || 'untitled test', 200)} — ${t.actor?.name ?? 'unknown'}, ${utc(t.at)}: ${t.url}`);
  return out;
}

const headline = (e: NotificationEvent) => `${e.incident.title} · ${e.incident.severity} · ${e.incident.status}`;
const byline = (e: NotificationEvent) => `${who(e)} · ${utc(e.at)}`;

export function plainText(e: NotificationEvent): string {
  return [headline(e), e.summary, ...details(e), byline(e), e.url].join('\n');
}

/** Slack's mrkdwn: &, < and > are control characters. */
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function slackMessage(e: NotificationEvent): unknown {
  const more = details(e);
  return {
    text: `${e.incident.title}: ${e.summary}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*<${e.incident.url}|${slackEscape(e.incident.title)}>* · ${e.incident.severity} · ${e.incident.status}\n${slackEscape(e.summary)}` } },
      ...(more.length ? [{ type: 'section', text: { type: 'mrkdwn', text: clip(slackEscape(more.join('\n')), 2900) } }] : []),
      { type: 'context', elements: [{ type: 'mrkdwn', text: slackEscape(byline(e)) }] },
      { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Bridgelog' }, url: e.url }] },
    ],
  };
}

/** What a Teams Workflows "post to a channel when a webhook request is received" flow expects. */
export function teamsMessage(e: NotificationEvent): unknown {
  const more = details(e);
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', size: 'Medium', weight: 'Bolder', text: e.incident.title, wrap: true },
            { type: 'TextBlock', text: e.summary, wrap: true },
            ...(more.length ? [{ type: 'TextBlock', text: more.join('\n\n'), wrap: true, isSubtle: true }] : []),
            {
              type: 'FactSet',
              facts: [
                { title: 'Severity', value: e.incident.severity },
                { title: 'Status', value: e.incident.status },
                { title: 'By', value: who(e) },
                { title: 'When', value: utc(e.at) },
              ],
            },
          ],
          actions: [{ type: 'Action.OpenUrl', title: 'Open in Bridgelog', url: e.url }],
        },
      },
    ],
  };
}

const html = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function matrixMessage(e: NotificationEvent): unknown {
  const more = details(e);
  return {
    msgtype: 'm.text',
    body: plainText(e),
    format: 'org.matrix.custom.html',
    formatted_body:
      `<p><strong><a href="${html(e.incident.url)}">${html(e.incident.title)}</a></strong> · ${html(e.incident.severity)} · ${html(e.incident.status)}<br>` +
      `${html(e.summary)}</p>` +
      (more.length ? `<p>${more.map(html).join('<br>')}</p>` : '') +
      `<p><em>${html(byline(e))}</em> · <a href="${html(e.url)}">Open in Bridgelog</a></p>`,
  };
}

export function emailMessage(e: NotificationEvent): { subject: string; text: string } {
  // One line, whatever a title holds: a line break in a header would start another header.
  return { subject: clip(`[Bridgelog] ${e.incident.title}: ${e.summary}`.replace(/[\r\n]+/g, ' '), 200), text: `${plainText(e)}\n` };
}

/** The Standard Webhooks body: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#payload-structure */
export function webhookBody(e: NotificationEvent): unknown {
  return { type: e.type, timestamp: e.at, data: e };
}
