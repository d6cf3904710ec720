import { parseFrame, unknownAction } from './protocol.ts';
import { webSocketRoute } from './websocket-route.ts';

/**
 * $default: every message whose action has no route. Malformed JSON is a ValidationError; anything else is an
 * UnknownAction error that lists the actions there are.
 */
export const handler = webSocketRoute(async (event) => {
  const message = parseFrame(event);
  const action =
    typeof message === 'object' && message !== null ? (message as { action?: unknown }).action : undefined;
  throw unknownAction(action);
});
