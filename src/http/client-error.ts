// Requests Node's HTTP parser refuses before any handler runs: headers over the limit
// (maxHeaderSize, 16 KiB by default: a 100 kB query string lands here) and malformed requests.
// Node would answer a bare `431`/`400` with no body; these get problem+json like every other error.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { problemBody } from './problem.js';

function respond(socket: Socket, status: number, reason: string, code: string, detail: string): void {
  const body = JSON.stringify(problemBody(status, code, detail));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    // Once a response has started (or the peer left) nothing more can be said on this socket.
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      respond(
        socket,
        431,
        'Request Header Fields Too Large',
        'HTTP_HEADERS_TOO_LARGE',
        'the request line and headers are larger than this server accepts (16 KiB); send long inputs in a POST body',
      );
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      respond(socket, 408, 'Request Timeout', 'HTTP_REQUEST_TIMEOUT', 'the request did not arrive in time');
    } else {
      respond(socket, 400, 'Bad Request', 'HTTP_MALFORMED_REQUEST', 'the request is not valid HTTP/1.1');
    }
  });
}
