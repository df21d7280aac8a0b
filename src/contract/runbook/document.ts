/**
 * The runbook document: one zod schema that workflows, the CLI and clients share. JSON form =
 * YAML form, so the same document is a file, the Temporal UI's "Start Workflow" input of
 * `drRunbook`, or an object in code. Every reference (endpoints, locations, what a product can
 * do, duplicate names) is checked at once, before anything starts. Pure (zod only).
 */
import { z } from 'zod';
import { DURATION_PATTERN } from '../duration';
import { MAX_STEP_TIMEOUT_MS, Name, secretRef } from '../endpoints';
import { PRODUCTS, type Product } from '../names';
import { fieldsAt } from '../schema-fields';
import {
  BackupStep,
  Duration,
  EndpointSchemas,
  Location,
  type RecoveryPointArchive,
  RestoreStep,
  stepOptionFields,
} from './entries';

export const RUNBOOK_API_VERSION = 'vmware-dr/v1';

const Stage = z
  .object({
    name: Name.describe("The stage's name, unique in the runbook."),
    /** Every step of the stage starts within this window of the stage's start, or the stage fails. */
    startWithin: Duration(1_000, MAX_STEP_TIMEOUT_MS)
      .optional()
      .describe(
        "Every step of the stage starts within this window of the stage's start, or the stage fails. Default: no limit.",
      ),
    steps: z.array(z.unknown()).min(1, 'a stage needs at least one step').max(50),
  })
  .strict();

export type RunbookEndpoint =
  | z.output<(typeof EndpointSchemas)['vcenter']>
  | z.output<(typeof EndpointSchemas)['sddc-manager']>
  | z.output<(typeof EndpointSchemas)['vcda']>;
export type RunbookLocation = z.output<typeof Location>;
export type RunbookBackupStep = z.output<typeof BackupStep>;
export type RunbookRestoreStep = z.output<typeof RestoreStep>;
export type RunbookRecoveryPointArchive = z.output<typeof RecoveryPointArchive>;
export type RunbookStep = RunbookBackupStep | RunbookRestoreStep;

const Defaults = z.object(stepOptionFields).strict();

/** Events a runbook can notify about. */
export const NOTIFY_EVENTS = ['approval-needed', 'failed', 'succeeded', 'stale'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** A webhook: its URL is a secret reference (hook URLs carry tokens); JSON body with a one-line `text`. */
const Notify = z
  .object({
    urlRef: secretRef().describe(
      'Reference (env:NAME, file:/path) to the webhook URL (hook URLs carry tokens). It gets JSON with a one-line `text`.',
    ),
    on: z
      .array(z.enum(NOTIFY_EVENTS))
      .min(1)
      .max(NOTIFY_EVENTS.length)
      .describe('The events to send: `stale` comes from `freshness`, the others from `drRunbook`.'),
  })
  .strict();

/** The raw shape; `Runbook` adds the per-entry parsing and the reference checks. */
const RunbookShape = z
  .object({
    apiVersion: z.literal(RUNBOOK_API_VERSION, `must be ${RUNBOOK_API_VERSION}`).describe('The document version.'),
    kind: z.literal('Runbook', 'must be Runbook').describe('The document kind.'),
    name: Name.describe("The runbook's name: in reports, schedules, search attribute `VmwareDrRunbook`."),
    site: Name.optional().describe('The site it protects (search attribute `VmwareDrSite`). Default: none.'),
    description: z.string().max(1024).optional().describe('Free text for people.'),
    defaults: Defaults.optional().describe("Step options for every step; a step's own setting wins."),
    /** Webhooks to tell about approvals needed, failures, successes (and, from `freshness`, stale backups). */
    notify: z
      .array(Notify)
      .max(10)
      .optional()
      .describe('Webhooks to tell about approvals needed, failures, successes and (from `freshness`) stale backups.'),
    endpoints: z.record(z.string(), z.unknown()),
    locations: z.record(z.string(), z.unknown()).optional(),
    stages: z.array(Stage).min(1, 'a runbook needs at least one stage').max(50),
  })
  .strict();

export interface RunbookDocument {
  apiVersion: typeof RUNBOOK_API_VERSION;
  kind: 'Runbook';
  name: string;
  site?: string;
  description?: string;
  defaults?: z.output<typeof Defaults>;
  notify?: z.output<typeof Notify>[];
  endpoints: Record<string, RunbookEndpoint>;
  locations?: Record<string, RunbookLocation>;
  stages: { name: string; startWithin?: string; steps: RunbookStep[] }[];
}

/** What each product can do in a runbook step. */
export const CAPABILITIES: Record<Product, readonly ('backup' | 'restore')[]> = {
  vcenter: ['backup', 'restore'],
  'sddc-manager': ['backup', 'restore'],
  vcda: ['backup'],
};

type Ctx = z.core.$RefinementCtx;

/**
 * Parses one part of the document (an endpoint, a location, a step) with its own schema and
 * reports its issues at their place in the document. An unknown field's issue carries the fields
 * of its object (`fields`, for "did you mean": the document's own schema has `unknown` there).
 */
function checkPart<S extends z.ZodType>(ctx: Ctx, base: PropertyKey[], schema: S, value: unknown) {
  const result = schema.safeParse(value);
  if (!result.success)
    for (const i of result.error.issues) {
      const fields = i.code === 'unrecognized_keys' ? { fields: fieldsAt(schema, i.path, value) } : {};
      ctx.addIssue({ ...i, ...fields, path: [...base, ...i.path] } as never);
    }
  return result;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Whether the parts `checkDocument` reads have their shape (the rest may still be wrong). */
function hasCheckableShape(value: unknown): boolean {
  if (!isObject(value) || !isObject(value.endpoints) || !Array.isArray(value.stages)) return false;
  if (value.locations !== undefined && !isObject(value.locations)) return false;
  return value.stages.every((st) => isObject(st) && typeof st.name === 'string' && Array.isArray(st.steps));
}

/** Parses entries and checks every reference of a document that has the right raw shape. */
function checkDocument(doc: z.output<typeof RunbookShape>, ctx: Ctx): void {
  const endpointProducts = new Map<string, Product>();
  if (Object.keys(doc.endpoints).length === 0)
    ctx.addIssue({ code: 'custom', path: ['endpoints'], message: 'a runbook needs at least one endpoint' });
  for (const [key, value] of Object.entries(doc.endpoints)) {
    if (!Name.safeParse(key).success) {
      ctx.addIssue({
        code: 'custom',
        path: ['endpoints'],
        message: `an endpoint key is not a valid name (1–64 letters, digits, ".", "_", "-")`,
      });
      continue;
    }
    const product = (value as { product?: unknown } | null)?.product;
    if (typeof product !== 'string' || !(PRODUCTS as readonly string[]).includes(product)) {
      ctx.addIssue({
        code: 'custom',
        path: ['endpoints', key, 'product'],
        message: `must be one of ${PRODUCTS.join(', ')}`,
      });
      continue;
    }
    if (checkPart(ctx, ['endpoints', key], EndpointSchemas[product as Product], value).success)
      endpointProducts.set(key, product as Product);
  }
  const locations = new Set<string>();
  for (const [key, value] of Object.entries(doc.locations ?? {})) {
    if (!Name.safeParse(key).success) {
      ctx.addIssue({
        code: 'custom',
        path: ['locations'],
        message: 'a location key is not a valid name (1–64 letters, digits, ".", "_", "-")',
      });
      continue;
    }
    if (checkPart(ctx, ['locations', key], Location, value).success) locations.add(key);
  }
  const stageNames = new Set<string>();
  doc.stages.forEach((stage, s) => {
    if (stageNames.has(stage.name))
      ctx.addIssue({
        code: 'custom',
        path: ['stages', s, 'name'],
        message: `duplicate stage name ${JSON.stringify(stage.name)}: stage names must be unique`,
      });
    stageNames.add(stage.name);
    const touched = new Map<string, number>();
    stage.steps.forEach((raw, i) => {
      const path = ['stages', s, 'steps', i];
      const kind =
        raw && typeof raw === 'object'
          ? 'backup' in raw
            ? 'backup'
            : 'restore' in raw
              ? 'restore'
              : undefined
          : undefined;
      if (!kind || Object.hasOwn(raw as object, 'backup') === Object.hasOwn(raw as object, 'restore')) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: 'a step is { backup: ENDPOINT } or { restore: ENDPOINT } (one of the two)',
        });
        return;
      }
      const parsed = checkPart(ctx, path, kind === 'backup' ? BackupStep : RestoreStep, raw);
      if (!parsed.success) return;
      const step = parsed.data as RunbookStep;
      const endpoint = 'backup' in step ? step.backup : step.restore;
      const product = endpointProducts.get(endpoint);
      if (!product) {
        if (!(endpoint in doc.endpoints))
          ctx.addIssue({
            code: 'custom',
            path: [...path, kind],
            message: `unknown endpoint ${JSON.stringify(endpoint)}: it must be a key of endpoints`,
          });
        return;
      }
      if (touched.has(endpoint)) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, kind],
          message: `endpoint ${JSON.stringify(endpoint)} is already used by step ${touched.get(endpoint)} of this stage: steps of a stage run in parallel, one per appliance; put the second in a later stage`,
        });
      }
      touched.set(endpoint, i);
      if (!CAPABILITIES[product].includes(kind)) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, kind],
          message: `${product} cannot ${kind} in a runbook (VCDA is restored by redeploying the appliance and importing its backup in the VCDA UI)`,
        });
        return;
      }
      const checkLocation = (field: 'to' | 'from', key: string | undefined, required: boolean) => {
        if (key === undefined) {
          if (required)
            ctx.addIssue({
              code: 'custom',
              path: [...path, field],
              message: `a ${product} ${kind} needs ${field}: LOCATION (a key of locations)`,
            });
        } else if (product !== 'vcenter') {
          ctx.addIssue({
            code: 'custom',
            path: [...path, field],
            message: `${product} ${kind}s use the appliance's own configured backup location: remove ${field}`,
          });
        } else if (!locations.has(key)) {
          if (!(key in (doc.locations ?? {})))
            ctx.addIssue({
              code: 'custom',
              path: [...path, field],
              message: `unknown location ${JSON.stringify(key)}: it must be a key of locations`,
            });
        }
      };
      if ('backup' in step) {
        checkLocation('to', step.to, product === 'vcenter');
      } else {
        checkLocation('from', step.from, product === 'vcenter');
        const onlyVcenter = ['archive', 'systemName', 'ignoreWarnings'] as const;
        const onlySddc = ['backupFile', 'passphraseRef'] as const;
        for (const f of product === 'vcenter' ? onlySddc : onlyVcenter) {
          if (step[f] !== undefined)
            ctx.addIssue({
              code: 'custom',
              path: [...path, f],
              message: `${f} is not used by a ${product} restore: remove it`,
            });
        }
        if (product === 'vcenter' && typeof step.archive === 'object' && step.systemName !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'systemName'],
            message:
              'systemName is not used with archive.recoveryPoint (the recovery point names the backup): remove it',
          });
        }
        if (product === 'sddc-manager') {
          for (const f of onlySddc)
            if (step[f] === undefined)
              ctx.addIssue({ code: 'custom', path: [...path, f], message: `an SDDC Manager restore needs ${f}` });
        }
      }
    });
  });
}

/**
 * The runbook document schema: shape, entries and every reference, all problems at once. The
 * entry schemas have no defaults or transforms, so the checked document is the input itself.
 */
export const Runbook = RunbookShape.superRefine(checkDocument, {
  // Also when other fields have problems, as long as the parts the checks read have their shape:
  // every problem is reported at once.
  when: ({ value }) => hasCheckableShape(value),
}).transform((doc) => doc as unknown as RunbookDocument);

/**
 * The document's shape for editors and the UI (JSON Schema draft 2020-12): every field with its
 * type, enums and descriptions; endpoints by product; steps as backup or restore. The reference
 * checks (unknown endpoints, what a product can do, duplicates) are in `Runbook` only.
 */
export function runbookJsonSchema(): Record<string, unknown> {
  const documented = RunbookShape.extend({
    endpoints: z
      .record(Name, z.union([EndpointSchemas.vcenter, EndpointSchemas['sddc-manager'], EndpointSchemas.vcda]))
      .describe('The appliances, by key (the key names the appliance in steps, reports and logs).'),
    locations: z
      .record(Name, Location)
      .optional()
      .describe('vCenter backup locations, by key (`to` of a backup step, `from` of a restore step).'),
    stages: z
      .array(
        Stage.extend({
          steps: z
            .array(z.union([BackupStep, RestoreStep]))
            .min(1)
            .max(50)
            .describe(
              'The steps of the stage, run in parallel (one per appliance): `{ backup: … }` or `{ restore: … }`.',
            ),
        }),
      )
      .min(1)
      .max(50)
      .describe('Run in order; a failed stage stops the later ones (unless its steps `continueOnFailure`).'),
  });
  return {
    $id: 'urn:vmware-dr:runbook:v1',
    title: 'vmware-dr runbook',
    ...z.toJSONSchema(documented, { unrepresentable: 'any', io: 'input' }),
  };
}

/** Options of one run (not part of the document: the same runbook is rehearsed, dry-run or run). */
export const DrRunbookOptions = z
  .object({
    /** Check every endpoint and plan every step; change nothing on any appliance. Default false. */
    dryRun: z.boolean().optional(),
    /** How long a step waits for approval before it fails safe. Default 24h. */
    approvalTimeout: z.string().regex(DURATION_PATTERN, 'must be a duration such as 30m or 24h').optional(),
  })
  .strict();
export type DrRunbookOptions = z.input<typeof DrRunbookOptions>;
