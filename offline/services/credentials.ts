/**
 * The credentials every local client and function signs with: DynamoDB Local, the SQS emulator and the REST
 * API's direct integrations accept any, and nothing offline checks IAM (README: limits).
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
