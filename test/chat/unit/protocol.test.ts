import { describe, expect, test } from 'vitest';
import {
  errorFrame,
  JoinRoomMessage,
  LeaveRoomMessage,
  MAX_MESSAGE_BYTES,
  notInRoom,
  parseClientMessage,
  parseFrame,
  SendMessageMessage,
  unknownAction,
} from '../../../functions/chat/protocol.ts';
import { HttpError } from '../../../functions/lib/errors.ts';

const frame = (body: unknown) => ({ body: typeof body === 'string' ? body : JSON.stringify(body) });

/** The refusal `action` throws, with the field paths it names. */
function refusal(action: () => unknown): {
  code: string;
  statusCode: number;
  message: string;
  paths: string[];
} {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    const { code, statusCode, message, details } = error as HttpError;
    return { code, statusCode, message, paths: (details ?? []).map((detail) => detail.path) };
  }
  throw new Error('Expected a refusal, but the message was accepted');
}

describe('parseClientMessage accepts', () => {
  test('joinroom and leaveroom with a room id', () => {
    expect(parseClientMessage(frame({ action: 'joinroom', roomId: 'general' }), JoinRoomMessage)).toEqual({
      action: 'joinroom',
      roomId: 'general',
    });
    expect(parseClientMessage(frame({ action: 'leaveroom', roomId: 'a-1' }), LeaveRoomMessage)).toEqual({
      action: 'leaveroom',
      roomId: 'a-1',
    });
  });

  test('sendmessage, trimming the text and keeping the client message id', () => {
    expect(
      parseClientMessage(
        frame({ action: 'sendmessage', roomId: 'general', text: '  hi there \n', clientMessageId: 'c-1' }),
        SendMessageMessage,
      ),
    ).toEqual({ action: 'sendmessage', roomId: 'general', text: 'hi there', clientMessageId: 'c-1' });
  });

  test('a text of exactly 2,000 characters, counting an emoji as one', () => {
    const text = '🙂'.repeat(2000);
    expect(
      parseClientMessage(frame({ action: 'sendmessage', roomId: 'r', text }), SendMessageMessage).text,
    ).toBe(text);
  });

  test('a 64-character room id', () => {
    const roomId = 'a'.repeat(64);
    expect(parseClientMessage(frame({ action: 'joinroom', roomId }), JoinRoomMessage).roomId).toBe(roomId);
  });

  test('a base64-encoded frame', () => {
    const body = Buffer.from(JSON.stringify({ action: 'joinroom', roomId: 'general' })).toString('base64');
    expect(parseClientMessage({ body, isBase64Encoded: true }, JoinRoomMessage).roomId).toBe('general');
  });
});

describe('parseClientMessage refuses with a ValidationError', () => {
  const send = (fields: Record<string, unknown>) => ({
    action: 'sendmessage',
    roomId: 'general',
    text: 'hi',
    ...fields,
  });

  test.each([
    ['malformed JSON', '{"action":"sendmessage"', []],
    ['an empty frame', '', []],
    ['a JSON array', [], ['body']],
    ['a missing room id', { action: 'sendmessage', text: 'hi' }, ['body.roomId']],
    ['an upper-case room id', send({ roomId: 'General' }), ['body.roomId']],
    ['a room id with a slash', send({ roomId: 'a/b' }), ['body.roomId']],
    ['a 65-character room id', send({ roomId: 'a'.repeat(65) }), ['body.roomId']],
    ['a room id of the wrong type', send({ roomId: 7 }), ['body.roomId']],
    ['a missing text', { action: 'sendmessage', roomId: 'general' }, ['body.text']],
    ['a text of only spaces', send({ text: ' \n\t ' }), ['body.text']],
    ['a text of 2,001 characters', send({ text: 'x'.repeat(2001) }), ['body.text']],
    ['a text of the wrong type', send({ text: 42 }), ['body.text']],
    ['an unknown field', send({ userId: 'mallory' }), ['body']],
    [
      'a __proto__ key',
      '{"action":"sendmessage","roomId":"general","text":"hi","__proto__":{"x":1}}',
      ['body'],
    ],
    ['a client message id with spaces', send({ clientMessageId: 'a b' }), ['body.clientMessageId']],
    [
      'a client message id of 129 characters',
      send({ clientMessageId: 'x'.repeat(129) }),
      ['body.clientMessageId'],
    ],
  ] as [string, unknown, string[]][])('%s', (_name, body, paths) => {
    const refused = refusal(() => parseClientMessage(frame(body), SendMessageMessage));
    expect(refused).toMatchObject({ code: 'ValidationError', statusCode: 400 });
    expect(refused.paths).toEqual(paths);
  });

  test('another action than the schema expects', () => {
    expect(
      refusal(() => parseClientMessage(frame({ action: 'leaveroom', roomId: 'general' }), JoinRoomMessage))
        .paths,
    ).toEqual(['body.action']);
  });

  test(`a frame over ${MAX_MESSAGE_BYTES} bytes, before parsing it`, () => {
    const body = JSON.stringify(send({ text: 'x'.repeat(MAX_MESSAGE_BYTES) }));
    expect(refusal(() => parseClientMessage({ body }, SendMessageMessage)).message).toContain(
      `${MAX_MESSAGE_BYTES} bytes`,
    );
  });

  test('invalid UTF-8 in a binary frame', () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64');
    expect(refusal(() => parseFrame({ body, isBase64Encoded: true })).code).toBe('ValidationError');
  });

  test('and the largest valid message still fits the size limit', () => {
    const body = JSON.stringify(send({ text: '🙂'.repeat(2000), clientMessageId: 'x'.repeat(128) })).replace(
      /🙂/g,
      '\\ud83d\\ude42',
    );
    expect(Buffer.byteLength(body)).toBeLessThan(MAX_MESSAGE_BYTES);
    expect(parseClientMessage({ body }, SendMessageMessage).text).toBe('🙂'.repeat(2000));
  });
});

describe('error frames', () => {
  test('carry the code, message and field details of a refusal', () => {
    let thrown: unknown;
    try {
      parseClientMessage(frame({ action: 'joinroom', roomId: 'X' }), JoinRoomMessage);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HttpError);
    expect(errorFrame(thrown as HttpError)).toEqual({
      type: 'error',
      code: 'ValidationError',
      message: expect.stringMatching(/\S/),
      details: [{ path: 'body.roomId', message: 'Must be 1-64 lower-case letters, digits or hyphens' }],
    });
  });

  test('list the actions for an unknown action', () => {
    expect(errorFrame(unknownAction('typing'))).toEqual({
      type: 'error',
      code: 'UnknownAction',
      message: 'Unknown action "typing"; use one of joinroom, leaveroom, sendmessage',
      actions: ['joinroom', 'leaveroom', 'sendmessage'],
    });
    expect(errorFrame(unknownAction(undefined)).message).toBe(
      'The message has no "action"; use one of joinroom, leaveroom, sendmessage',
    );
  });

  test('say NotInRoom without details', () => {
    expect(errorFrame(notInRoom('general'))).toEqual({
      type: 'error',
      code: 'NotInRoom',
      message: 'Join room general before sending messages to it',
    });
  });

  test('hide everything of an internal error', () => {
    expect(errorFrame()).toEqual({
      type: 'error',
      code: 'InternalError',
      message: 'An internal error occurred',
    });
  });
});
