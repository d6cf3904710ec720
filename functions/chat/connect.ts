import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { metrics } from '../lib/powertools.ts';
import { tracing } from '../lib/tracing.ts';
import { saveConnection } from './connections.ts';
import { callerOf, ok, webSocketRoute } from './route.ts';

/** $connect (after the authoriser): remembers who holds the connection, until $disconnect or its TTL. */
export const handler = webSocketRoute(
  async (event) => {
    const caller = callerOf(event);
    const { connectionId, connectedAt } = event.requestContext;

    await saveConnection(connectionId, caller.userId, new Date(connectedAt ?? Date.now()));
    metrics.addMetric('ConnectionsOpened', MetricUnit.Count, 1);
    return ok();
  },
  { replies: false, tracing: tracing() },
);
