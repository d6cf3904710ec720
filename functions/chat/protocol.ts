import * as z from 'zod';
import { type FieldIssue, HttpError } from '../lib/errors.ts';
import { decodeJsonPayload, type JsonPayload, type JsonPayloadRules, validate } from '../lib/validation.ts';

/**
 * The chat's wire protocol: JSON text frames. Clients send `{"action": …}` messages (API Gateway routes them
 * on `$request.body.action`); the server answers through @connections with `{"type": …}` frames.
 */

/** The actions a client may send; anything else reaches `$default`. */
export const ACTIONS = ['joinroom', 'leaveroom', 'sendmessage'] as const;

/**
 * A message above this is refused before parsing. API Gateway itself allows 128 KB; the largest valid
 * sendmessage (2,000 characters, each JSON-escaped as a surrogate pair) stays well below it.
 */
export const MAX_MESSAGE_BYTES = 32 * 1024;
export const MAX_TEXT_CHARACTERS = 2000;

export const RoomId = z
  .string()
  .regex(/^[a-z0-9-]{1,64}$/, { message: 'Must be 1-64 lower-case letters, digits or hyphens' });

const ClientMessageId = z
  .string()
  .regex(/^[\x21-\x7e]{1,128}$/, { message: 'Must be 1-128 printable ASCII characters without spaces' });

export const JoinRoomMessage = z.strictObject({ action: z.literal('joinroom'), roomId: RoomId });
export type JoinRoomMessage = z.infer<typeof JoinRoomMessage>;

export const LeaveRoomMessage = z.strictObject({ action: z.literal('leaveroom'), roomId: RoomId });
export type LeaveRoomMessage = z.infer<typeof LeaveRoomMessage>;

export const SendMessageMessage = z.strictObject({
  action: z.literal('sendmessage'),
  roomId: RoomId,
  // Characters are Unicode code points, counted after trimming: an emoji counts once.
  text: z
    .string()
    .trim()
    .min(1, { message: 'Must not be empty' })
    .refine((text) => [...text].length <= MAX_TEXT_CHARACTERS, {
      message: `Must be at most ${MAX_TEXT_CHARACTERS} characters`,
    }),
  clientMessageId: ClientMessageId.optional(),
});
export type SendMessageMessage = z.infer<typeof SendMessageMessage>;

// ---------------------------------------------------------------- server → client frames

export type ServerFrame =
  | { type: 'joined'; roomId: string }
  | { type: 'left'; roomId: string }
  | {
      type: 'message';
      roomId: string;
      messageId: string;
      from: { userId: string; username: string };
      text: string;
      sentAt: string;
      clientMessageId?: string;
    }
  | {
      type: 'delivered';
      roomId: string;
      messageId: string;
      recipients: number;
      removed: number;
      clientMessageId?: string;
    }
  | ErrorFrame;

export interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
  details?: readonly FieldIssue[];
  actions?: readonly string[];
}

// ---------------------------------------------------------------- errors

const invalid = (message: string) => new HttpError(400, 'ValidationError', message);

export const notInRoom = (roomId: string) =>
  new HttpError(403, 'NotInRoom', `Join room ${roomId} before sending messages to it`);

export const unknownAction = (action: unknown) =>
  new HttpError(
    400,
    'UnknownAction',
    typeof action === 'string' && action !== ''
      ? `Unknown action "${action.slice(0, 64)}"; use one of ${ACTIONS.join(', ')}`
      : `The message has no "action"; use one of ${ACTIONS.join(', ')}`,
  );

/** The error frame sent to the caller for a refusal (an HttpError) or, with no error, for an internal failure. */
export function errorFrame(error?: HttpError): ErrorFrame {
  if (!error) return { type: 'error', code: 'InternalError', message: 'An internal error occurred' };
  const frame: ErrorFrame = { type: 'error', code: error.code, message: error.message };
  if (error.details) frame.details = error.details;
  if (error.code === 'UnknownAction') frame.actions = ACTIONS;
  return frame;
}

// ---------------------------------------------------------------- parsing

// Invalid UTF-8 is refused as invalid JSON. A key such as `__proto__` is not refused by name: every action's
// schema is strict, so it fails validation as an unknown field (and `$default` refuses every message anyway).
const FRAME: JsonPayloadRules = {
  maxBytes: MAX_MESSAGE_BYTES,
  missing: () => invalid('A JSON message is required'),
  tooLarge: () => invalid(`The message must not exceed ${MAX_MESSAGE_BYTES} bytes`),
  notUtf8: () => invalid('The message is not valid JSON'),
  notJson: () => invalid('The message is not valid JSON'),
};

/** Size-checks, decodes and parses a frame's JSON; every failure is a ValidationError. */
export function parseFrame(event: JsonPayload): unknown {
  return decodeJsonPayload(event, FRAME);
}

/** Parses a client's message and validates it against its action's schema (unknown fields refused). */
export function parseClientMessage<S extends z.ZodType>(event: JsonPayload, schema: S): z.infer<S> {
  return validate(schema, parseFrame(event), 'body');
}
