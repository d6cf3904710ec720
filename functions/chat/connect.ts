import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { metrics } from '../lib/powertools.ts';
import { saveConnection } from './connections.ts';
import { connectionCallerOf, ok, webSocketRoute } from './websocket-route.ts';

/** $connect (after the authoriser): remembers who holds the connection, until $disconnect or its TTL. */
export const handler = webSocketRoute(
  async (event) => {
    const caller = connectionCallerOf(event);
    const { connectionId, connectedAt } = event.requestContext;

    await saveConnection(connectionId, caller.userId, new Date(connectedAt ?? Date.now()));
    metrics.addMetric('ConnectionsOpened', MetricUnit.Count, 1);
    return ok();
  },
  { replies: false },
);
