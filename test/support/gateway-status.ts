/** Calls the gateway still has open: its own table plus every backend's pending requests (from /status). */
export async function inflightCalls(gatewayUrl: string): Promise<number> {
  const status = (await (await fetch(`${gatewayUrl}/status`)).json()) as {
    inflight: number;
    servers: Array<{ inFlight: number }>;
  };
  return status.inflight + status.servers.reduce((n, s) => n + s.inFlight, 0);
}
