import { joinRoom } from './connections.ts';
import { reply } from './management.ts';
import { JoinRoomMessage, parseClientMessage } from './protocol.ts';
import { connectionCallerOf, ok, webSocketRoute } from './websocket-route.ts';

/** joinroom: `{"action":"joinroom","roomId":"general"}` → `{"type":"joined","roomId":"general"}`. */
export const handler = webSocketRoute(async (event) => {
  const { roomId } = parseClientMessage(event, JoinRoomMessage);
  const caller = connectionCallerOf(event);

  await joinRoom(event.requestContext.connectionId, caller.userId, roomId);
  await reply(event.requestContext, { type: 'joined', roomId });
  return ok();
});
