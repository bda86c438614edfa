/**
 * Every AWS client in the tests talks to a loopback emulator. This guard runs before each
 * test file (jest setupFiles): any client not given its own endpoint falls back to a closed
 * loopback port and fails, instead of reaching for the internet.
 */
export const DEAD_LOOPBACK_ENDPOINT = 'http://127.0.0.1:9';

export function installLoopbackGuard() {
  process.env.AWS_ENDPOINT_URL = DEAD_LOOPBACK_ENDPOINT;
  process.env.AWS_REGION = 'eu-west-1';
  process.env.AWS_ACCESS_KEY_ID = 'AKIDLOCALTEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'local-test-secret';
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  // The SDK's retries against a closed port would only slow a failing test down.
  process.env.AWS_MAX_ATTEMPTS = process.env.AWS_MAX_ATTEMPTS ?? '2';
}

/** Client settings for an emulator on loopback; refuses anything else. */
export function loopbackClientConfig(endpoint: string) {
  const url = new URL(endpoint);
  if (!/^127\./.test(url.hostname)) {
    throw new Error(`refusing AWS endpoint ${endpoint}: tests stay inside 127.0.0.0/8`);
  }
  return {
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' },
  };
}
