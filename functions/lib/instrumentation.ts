/** Something that wraps an AWS SDK client (the tracer's captureAWSv3Client) and returns the same client. */
export type Instrument = <Client>(client: Client) => Client;

let instrument: Instrument = (client) => client;

/**
 * Shared code builds its AWS SDK clients through this, so that they are traced in the functions that trace and
 * plain in the others, without importing the tracer (which would put it in every bundle): tracing.ts installs
 * the tracer's capture when a function loads it.
 */
export const instrumented: Instrument = (client) => instrument(client);

export function instrumentClients(next: Instrument): void {
  instrument = next;
}
