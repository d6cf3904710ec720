import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
// Only schema modules: they read no environment, so the template project can import them as they are.
import { JoinRoomMessage, LeaveRoomMessage, SendMessageMessage } from '../../../functions/chat/protocol.ts';
import { loadTemplate } from '../../../offline/template/template.ts';
import {
  checkWebSocketSample,
  folderEventName,
  missingFolderEvents,
  readWebSocketEvent,
  type WebSocketMessageRules,
  type WebSocketSample,
  webSocketFunctionsOf,
} from '../../template/events.ts';
import { ROOT } from '../../template/rules.ts';

/** The message schema each WebSocket message route validates its body with (by handler file). */
const MESSAGE_SCHEMAS: Record<string, z.ZodType> = {
  'join-room': JoinRoomMessage,
  'leave-room': LeaveRoomMessage,
  'send-message': SendMessageMessage,
};

const template = loadTemplate(resolve(ROOT, 'template.yaml'));
const webSocket = webSocketFunctionsOf(template);
const rules: WebSocketMessageRules = {
  routeKeys: new Set(webSocket.flatMap((entry) => (entry.kind === 'route' ? [entry.route.routeKey] : []))),
  messageSchemas: MESSAGE_SCHEMAS,
};

describe("the chat's sample events (events/chat-<handler>.json for `sam local invoke -e`)", () => {
  it('exist for every WebSocket function (events/<folder>-<handler>.json)', () => {
    expect(webSocket.length).toBeGreaterThan(0);
    expect(missingFolderEvents(webSocket.map(({ fn }) => fn))).toEqual([]);
  });

  it.each(
    webSocket.map(
      (entry) =>
        [
          `${folderEventName(entry.fn)}.json (${entry.kind === 'route' ? entry.route.routeKey : `${entry.authorizer} on $connect`})`,
          entry,
        ] as const,
    ),
  )('%s is what the WebSocket API sends', (_name, entry) => {
    expect(checkWebSocketSample(entry, readWebSocketEvent(entry.fn), rules)).toEqual([]);
  });
});

describe('the WebSocket event checks catch', () => {
  const entry = (id: string) => {
    const found = webSocket.find((candidate) => candidate.fn.logicalId === id);
    if (!found) throw new Error(`No WebSocket function ${id}`);
    return found;
  };
  const edited = (id: string, edit: (event: WebSocketSample) => void) => {
    const event = readWebSocketEvent(entry(id).fn);
    edit(event);
    return checkWebSocketSample(entry(id), event, rules).join('\n');
  };

  it('a route key the template does not give the function', () => {
    expect(
      edited('ChatJoinRoomFunction', (event) => {
        if (event.requestContext) event.requestContext.routeKey = 'sendmessage';
      }),
    ).toContain("requestContext.routeKey sendmessage is not the template's joinroom");
  });

  it('a body whose action selects another route', () => {
    expect(
      edited('ChatSendMessageFunction', (event) => {
        event.body = JSON.stringify({ action: 'joinroom', roomId: 'general' });
      }),
    ).toContain("body.action joinroom does not select the template's sendmessage route");
    expect(
      edited('ChatDefaultFunction', (event) => {
        event.body = JSON.stringify({ action: 'leaveroom', roomId: 'general' });
      }),
    ).toContain('body.action leaveroom would select the leaveroom route, not $default');
  });

  it('a body the handler would refuse', () => {
    expect(
      edited('ChatSendMessageFunction', (event) => {
        event.body = JSON.stringify({ action: 'sendmessage', roomId: 'General!', text: 'hi' });
      }),
    ).toContain('body fails the handler schema');
  });

  it('the wrong event type, and a message id on $disconnect', () => {
    const violations = edited('ChatDisconnectFunction', (event) => {
      if (event.requestContext) {
        event.requestContext.eventType = 'MESSAGE';
        event.requestContext.messageId = 'Vx9tJGk0DoEFu5w=';
      }
    });
    expect(violations).toContain('requestContext.eventType is not DISCONNECT');
    expect(violations).toContain('requestContext.messageId is only for MESSAGE events');
  });

  it('a route event without the authoriser context', () => {
    expect(
      edited('ChatConnectFunction', (event) => {
        delete event.requestContext?.authorizer;
      }),
    ).toContain('requestContext.authorizer lacks the userId');
  });

  it('an authoriser event without the token its identity source names, or for another API', () => {
    expect(
      edited('ChatAuthorizerFunction', (event) => {
        event.queryStringParameters = {};
        event.multiValueQueryStringParameters = {};
      }),
    ).toContain('the identity source route.request.querystring.token does not hold a JWT');
    expect(
      edited('ChatAuthorizerFunction', (event) => {
        event.methodArn = 'arn:aws:execute-api:eu-west-1:123456789012:otherapi01/dev/$connect';
      }),
    ).toContain('methodArn names another API, stage or region than requestContext');
  });
});
