/** Reads a variable the template must set; a missing one fails the cold start instead of the first request. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Environment variable ${name} is not set (see template.yaml)`);
  return value;
}
