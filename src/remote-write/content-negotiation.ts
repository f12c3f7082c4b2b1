import { UnsupportedMediaTypeError } from '../errors.js';
import type { RemoteWriteVersion } from './types.js';

/**
 * Which remote-write message a request carries, from its headers, as the 2.0 specification's
 * content negotiation defines it. Anything we cannot read is a 415, so that a 2.0 sender may fall
 * back to another content type.
 */

const PROTOBUF_MEDIA_TYPE = 'application/x-protobuf';

const VERSION_OF_PROTO: Readonly<Record<string, RemoteWriteVersion>> = {
  'prometheus.WriteRequest': '1.0',
  'io.prometheus.write.v2.Request': '2.0',
};

/**
 * `application/x-protobuf` (or no Content-Type at all, as some old 1.0 senders do) is 1.0; the
 * `proto` parameter picks `prometheus.WriteRequest` (1.0) or `io.prometheus.write.v2.Request` (2.0).
 * Media type and parameter names are case-insensitive (RFC 9110); the message name is not.
 */
export function parseRemoteWriteContentType(contentType: string | undefined): RemoteWriteVersion {
  if (contentType === undefined || contentType.trim() === '') return '1.0';
  const [mediaType, ...parameters] = contentType.split(';');
  if (mediaType.trim().toLowerCase() !== PROTOBUF_MEDIA_TYPE) {
    throw new UnsupportedMediaTypeError(`unsupported Content-Type "${contentType}": expected ${PROTOBUF_MEDIA_TYPE}`);
  }
  let version: RemoteWriteVersion = '1.0';
  for (const parameter of parameters) {
    if (parameter.trim() === '') continue;
    const equals = parameter.indexOf('=');
    if (equals < 0) throw new UnsupportedMediaTypeError(`malformed Content-Type parameter "${parameter.trim()}"`);
    if (parameter.slice(0, equals).trim().toLowerCase() !== 'proto') continue;
    const proto = unquote(parameter.slice(equals + 1).trim());
    const protoVersion = Object.hasOwn(VERSION_OF_PROTO, proto) ? VERSION_OF_PROTO[proto] : undefined;
    if (protoVersion === undefined) {
      throw new UnsupportedMediaTypeError(
        `unsupported remote-write message "${proto}": expected prometheus.WriteRequest or io.prometheus.write.v2.Request`,
      );
    }
    version = protoVersion;
  }
  return version;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/**
 * Only snappy is defined for remote-write. A missing Content-Encoding is taken as snappy: both specs
 * require senders to set it, but Prometheus' own receiver accepts its absence from older 1.0
 * senders, and the snappy decoder rejects a body that is not snappy anyway.
 */
export function checkContentEncoding(contentEncoding: string | undefined): void {
  if (contentEncoding === undefined) return;
  const encoding = contentEncoding.trim().toLowerCase();
  if (encoding === '' || encoding === 'snappy') return;
  throw new UnsupportedMediaTypeError(`unsupported Content-Encoding "${contentEncoding}": only snappy is accepted`);
}
