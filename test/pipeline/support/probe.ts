import { TEST_API_TOKEN } from '../../../tools/pipeline/deployment.ts';

/** Reads a running pipeline's HTTP API from a test, as the deployment's reader. */
export async function getJson(url: string, token: string | undefined = TEST_API_TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}
