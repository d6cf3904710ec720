import { tracing } from '../lib/tracing.ts';
import { leaveRoom } from './connections.ts';
import { reply } from './management.ts';
import { LeaveRoomMessage, parseMessage } from './protocol.ts';
import { ok, webSocketRoute } from './route.ts';

/** leaveroom: `{"action":"leaveroom","roomId":"general"}` → `{"type":"left","roomId":"general"}` (idempotent). */
export const handler = webSocketRoute(
  async (event) => {
    const { roomId } = parseMessage(event, LeaveRoomMessage);

    await leaveRoom(event.requestContext.connectionId, roomId);
    await reply(event.requestContext, { type: 'left', roomId });
    return ok();
  },
  { tracing: tracing() },
);
