import { leaveRoom } from './connections.ts';
import { reply } from './management.ts';
import { LeaveRoomMessage, parseClientMessage } from './protocol.ts';
import { ok, webSocketRoute } from './websocket-route.ts';

/** leaveroom: `{"action":"leaveroom","roomId":"general"}` → `{"type":"left","roomId":"general"}` (idempotent). */
export const handler = webSocketRoute(async (event) => {
  const { roomId } = parseClientMessage(event, LeaveRoomMessage);

  await leaveRoom(event.requestContext.connectionId, roomId);
  await reply(event.requestContext, { type: 'left', roomId });
  return ok();
});
