import { describe, expect, it } from 'vitest';
import { UnsupportedMediaTypeError } from '../errors.js';
import { checkContentEncoding, parseRemoteWriteContentType } from './content-negotiation.js';

describe('parseRemoteWriteContentType', () => {
  it('reads the three content types the 2.0 spec lets senders send', () => {
    expect(parseRemoteWriteContentType('application/x-protobuf')).toBe('1.0');
    expect(parseRemoteWriteContentType('application/x-protobuf;proto=prometheus.WriteRequest')).toBe('1.0');
    expect(parseRemoteWriteContentType('application/x-protobuf;proto=io.prometheus.write.v2.Request')).toBe('2.0');
  });

  it('treats a missing Content-Type as 1.0', () => {
    expect(parseRemoteWriteContentType(undefined)).toBe('1.0');
    expect(parseRemoteWriteContentType('  ')).toBe('1.0');
  });

  it('follows RFC 9110: case-insensitive names, optional spaces, quoted values, other parameters ignored', () => {
    expect(parseRemoteWriteContentType('Application/X-Protobuf ; Proto = io.prometheus.write.v2.Request')).toBe('2.0');
    expect(parseRemoteWriteContentType('application/x-protobuf;proto="io.prometheus.write.v2.Request"')).toBe('2.0');
    expect(parseRemoteWriteContentType('application/x-protobuf; charset=utf-8;')).toBe('1.0');
  });

  it('answers 415 for other media types, unknown messages and malformed parameters', () => {
    const unsupported = [
      'application/json',
      'application/x-protobuf2',
      'text/plain;proto=prometheus.WriteRequest',
      'application/x-protobuf;proto=io.prometheus.write.v3.Request',
      // Message names are case-sensitive protobuf names.
      'application/x-protobuf;proto=Prometheus.WriteRequest',
      'application/x-protobuf;proto',
      'application/x-protobuf;proto=toString',
    ];
    for (const contentType of unsupported) {
      expect(() => parseRemoteWriteContentType(contentType), contentType).toThrow(UnsupportedMediaTypeError);
    }
  });
});

describe('checkContentEncoding', () => {
  it('accepts snappy, in any case, and a missing encoding', () => {
    expect(() => checkContentEncoding('snappy')).not.toThrow();
    expect(() => checkContentEncoding(' Snappy ')).not.toThrow();
    expect(() => checkContentEncoding(undefined)).not.toThrow();
    expect(() => checkContentEncoding('')).not.toThrow();
  });

  it('answers 415 for any other encoding', () => {
    for (const encoding of ['gzip', 'zstd', 'identity', 'snappy, gzip', 'x-snappy-framed']) {
      expect(() => checkContentEncoding(encoding), encoding).toThrow(UnsupportedMediaTypeError);
    }
  });
});
