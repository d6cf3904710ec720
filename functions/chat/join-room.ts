import { tracing } from '../lib/tracing.ts';
import { joinRoom } from './connections.ts';
import { reply } from './management.ts';
import { JoinRoomMessage, parseMessage } from './protocol.ts';
import { callerOf, ok, webSocketRoute } from './route.ts';

/** joinroom: `{"action":"joinroom","roomId":"general"}` → `{"type":"joined","roomId":"general"}`. */
export const handler = webSocketRoute(
  async (event) => {
    const { roomId } = parseMessage(event, JoinRoomMessage);
    const caller = callerOf(event);

    await joinRoom(event.requestContext.connectionId, caller.userId, roomId);
    await reply(event.requestContext, { type: 'joined', roomId });
    return ok();
  },
  { tracing: tracing() },
);
