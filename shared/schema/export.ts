/**
 * The JSON export (v1, docs/api.md): one zod schema is the single source of truth. The server's
 * report types are inferred from it and the published JSON Schema (draft 2020-12) is generated from
 * it, so the code, the types and the document cannot drift apart; test/export checks real exports
 * against it.
 *
 * Times the server wrote are `Timestamp`s (ISO-8601 UTC). Times that come from the incident's document
 * (`ranAt`, `startedAt`, `resolvedAt`) are strings as the clients wrote them: the server does not
 * rewrite what responders logged.
 */
import { z } from 'zod';
import { AlertSources } from '../alerts.js';
import { AttachmentKinds } from '../attachments.js';
import { IncidentStatuses, Severities } from '../model.js';
import { EntryKinds, HypothesisStatuses, Verdicts } from './doc.js';
import { DurationNames, MilestoneLimits } from './milestones.js';

/** The export's `$schema` and the JSON Schema's `$id`; a breaking change gets a new version. */
export const REPORT_SCHEMA = 'https://bridgelog.dev/schema/export/v1';

const Timestamp = z.iso.datetime().meta({ id: 'Timestamp', description: 'ISO-8601 UTC, written by the server' });
const DocTime = z.string().meta({ id: 'DocumentTime', description: "A time from the incident's document, as a client wrote it (ISO-8601 UTC from Bridgelog's clients)" });
const Person = z.object({ id: z.string(), name: z.string() }).meta({ id: 'Person', description: 'A user: id and display name' });
const AlertStatus = z.enum(['firing', 'resolved']);

const Attachment = z
  .object({
    id: z.string(),
    name: z.string().describe("The uploader's file name, made safe (no directories, no control characters)"),
    size: z.int().nonnegative().describe('Bytes'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    kind: z.enum(AttachmentKinds).describe("Decided from the file's content"),
    mime: z.string(),
    missing: z.boolean().describe("The file is not on the server's disk: the report says so and the export goes on"),
    capture: z
      .object({
        packets: z.int().nonnegative(),
        bytes: z.int().nonnegative().describe('Sum of original frame lengths'),
        firstPacketAt: Timestamp.nullable(),
        lastPacketAt: Timestamp.nullable(),
        durationMs: z.number().nonnegative(),
        peakMbitPerMs: z.number().nonnegative().describe('The busiest 1 ms bucket, as Mbit/s'),
        capacityMbit: z.number().positive().describe('The link capacity the bursts are measured against'),
        msOverCapacity: z.int().nonnegative().describe('1 ms buckets above the capacity'),
        ioGraph1ms: z.array(z.int().nonnegative()).max(60_000).describe('The 1 ms IO graph, bytes per bucket from the first packet (at most the first minute)'),
      })
      .optional()
      .describe('A capture whose analysis has finished'),
  })
  .meta({ id: 'Attachment' });

const Entry = z
  .object({
    id: z.string(),
    kind: z.enum(EntryKinds),
    title: z.string(),
    ranAt: DocTime.describe('When it was run, as the responder logged it'),
    command: z.string().describe('How to repeat it'),
    observations: z.string().describe('Markdown'),
    conclusion: z.string().describe('Markdown'),
    links: z.array(z.object({ url: z.string(), label: z.string() })),
    hypotheses: z.record(z.string(), z.enum(Verdicts)).describe('Hypothesis id → what this entry says about it'),
    createdBy: Person.nullable().describe("Who logged it, from the server's history (null: the history does not say)"),
    loggedAt: Timestamp.nullable().describe('When the server received it'),
    editors: z.array(Person).describe('Everyone else who changed it, in the order they first did'),
    editedAt: Timestamp.nullable().describe('When it last changed after it was logged'),
    backfilled: z.boolean().describe('Logged more than 15 minutes after it was run'),
    mitigated: z.boolean().optional().describe('Marked as what mitigated the incident (present only when true)'),
    attachments: z.array(Attachment),
    unknownAttachments: z.array(z.string()).describe('Attachment ids the entry names that the server has no record of'),
    alerts: z.array(z.object({ id: z.string(), title: z.string(), status: AlertStatus, startsAt: Timestamp, endsAt: Timestamp.nullable() })),
  })
  .meta({ id: 'Entry' });

const Hypothesis = z
  .object({
    id: z.string(),
    statement: z.string(),
    status: z.enum(HypothesisStatuses),
    supportedBy: z.array(z.string()).describe('Ids of entries that support it'),
    refutedBy: z.array(z.string()).describe('Ids of entries that refute it'),
  })
  .meta({ id: 'Hypothesis' });

const Milestone = z
  .object({
    name: z.string().describe('impactStarted, detected, acknowledged, mitigated, resolved, or a custom name'),
    label: z.string().describe('How it reads: "Impact started", or the custom name'),
    at: DocTime.describe('The time it names (ISO-8601 UTC)'),
    setBy: Person.describe("Who set it (its current value), from the server's history"),
    setAt: Timestamp.describe('When the server received that change'),
    backfilled: z.boolean().describe(`Set more than ${MilestoneLimits.backfilledAfterMs / 60_000} minutes after the time it names`),
  })
  .meta({ id: 'Milestone' });

const Duration = z
  .object({
    name: z.enum(DurationNames),
    label: z.string(),
    ms: z.number().nonnegative().optional().describe('Absent when it cannot be told (see problem); never negative'),
    running: z.boolean().describe("The end milestone is not set and the incident was open at the report's moment: ms runs to asOf"),
    problem: z.string().optional().describe('Why there is no figure: a milestone not set, or set before the one it is measured from'),
  })
  .meta({ id: 'Duration' });

const TimelineRow = z
  .object({
    at: DocTime,
    who: z.string(),
    what: z.string(),
    kind: z.enum(['entry', 'alert-firing', 'alert-resolved', 'incident']),
    event: z
      .enum(['milestone', 'status', 'severity', 'verdict', 'attachment'])
      .optional()
      .describe('What kind of incident or entry row it is, when `kind` alone does not say (added within v1, #16): as the web app\'s timeline derives them'),
  })
  .meta({ id: 'TimelineRow' });

const Alert = z
  .object({
    id: z.string(),
    fingerprint: z.string(),
    status: AlertStatus.describe('Its status now'),
    statusAsOf: AlertStatus.describe("Its status at the report's moment"),
    title: z.string(),
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()),
    startsAt: Timestamp,
    endsAt: Timestamp.nullable().describe('null while firing'),
    source: z.enum(AlertSources),
    url: z.string().nullable().describe('Link to the source graph or alert'),
    transitions: z.array(
      z.object({
        status: AlertStatus,
        at: Timestamp.describe('When it happened, according to the sender'),
        receivedAt: Timestamp.describe('When Bridgelog heard of it'),
      }),
    ).describe("Only those Bridgelog had heard of at the report's moment"),
    incidents: z.array(z.string()),
    links: z
      .array(
        z.object({
          incidentId: z.string(),
          attached: z.boolean(),
          at: Timestamp.describe('By the server clock'),
          by: z.string().nullable().describe('Id of the user who attached or detached it; null when the label matchers did'),
        }),
      )
      .optional()
      .describe("Its attaching to and detaching from this incident up to the report's moment, oldest first"),
  })
  .meta({ id: 'Alert' });

export const ReportSchema = z
  .object({
    $schema: z.literal(REPORT_SCHEMA),
    generatedAt: Timestamp,
    asOf: Timestamp.describe('The moment the report describes: now, or the `at` asked for'),
    incident: z.object({
      id: z.string(),
      title: z.string(),
      severity: z.enum(Severities),
      status: z.enum(IncidentStatuses),
      createdAt: Timestamp,
      startedAt: DocTime.nullable(),
      resolvedAt: DocTime.nullable(),
      createdBy: Person,
    }),
    impact: z.object({ start: DocTime.nullable(), end: DocTime.nullable() }).describe('First alert (or the start of the incident) → resolution'),
    responders: z.array(Person.extend({ entries: z.int().nonnegative(), edits: z.int().nonnegative() })),
    summary: z.object({
      conclusions: z.array(z.object({ entryId: z.string(), title: z.string(), conclusion: z.string() })),
      hypotheses: z.array(Hypothesis),
    }),
    milestones: z.array(Milestone).optional().describe("The incident's milestones at the report's moment, by time (added within v1: absent in older exports)"),
    durations: z.array(Duration).optional().describe('Time to detect, acknowledge, mitigate and resolve, from the milestones (added within v1)'),
    timeline: z.array(TimelineRow).describe('Entries, alert transitions, milestones, declaration and resolution, by time'),
    entries: z.array(Entry).describe('In the order they were run'),
    alerts: z.array(Alert),
    attachments: z.array(Attachment).describe('Every attachment an entry refers to, once'),
  })
  .meta({ title: 'Bridgelog incident export, v1', description: 'GET /api/incidents/:id/export?format=json, and incident.json in the zip bundle' });

export type Report = z.infer<typeof ReportSchema>;
export type ReportAttachment = z.infer<typeof Attachment>;
export type ReportEntry = z.infer<typeof Entry>;
export type ReportHypothesis = z.infer<typeof Hypothesis>;
export type TimelineRow = z.infer<typeof TimelineRow>;
export type Person = z.infer<typeof Person>;
export type ReportMilestone = z.infer<typeof Milestone>;

/**
 * The JSON Schema of the export. Published open (unknown properties allowed), so that a field added
 * within v1 does not break anyone validating with a copy; `exhaustive` closes every object, for tests
 * to prove the server emits nothing the schema does not document.
 */
export function exportJsonSchema({ exhaustive = false } = {}): Record<string, unknown> {
  const schema = z.toJSONSchema(ReportSchema, {
    target: 'draft-2020-12',
    override: (ctx) => {
      if (!exhaustive && ctx.jsonSchema.additionalProperties === false) delete ctx.jsonSchema.additionalProperties;
    },
  });
  return { $schema: schema.$schema, $id: REPORT_SCHEMA, ...schema };
}
