import { createServer } from 'node:net';
import { GatewayError } from '../../shared/errors.js';

/** Whether the gateway listens on loopback only (where Origin checks allow local pages). */
export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\./.test(address);
}

/**
 * Chooses the port before any worker binds: with SO_REUSEPORT every port-0 listener gets a port of its
 * own, so the workers must all be told one concrete port. A plain exclusive bind also catches a port that is already taken
 * (even by another SO_REUSEPORT program, which a reusePort bind would silently share).
 */
export async function choosePort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'it is already in use' : error.message;
      reject(
        new GatewayError(
          `The gateway cannot listen on ${host}:${port}: ${why}. Choose another port with --port or sseProxy.port.`,
          { cause: error },
        ),
      );
    });
    probe.listen({ host, port, exclusive: true }, () => {
      const address = probe.address();
      const chosen = typeof address === 'object' && address ? address.port : port;
      probe.close(() => resolve(chosen));
    });
  });
}
