import { decodeHistogram, decodeSample } from './common-messages.js';
import { liftSeriesMetadata, metricTypeFromWire, seriesMetadataOf } from '../metric-metadata.js';
import type { Exemplar, Histogram, Label, Sample, TimeSeries, WriteRequest } from '../types.js';
import type { WireReader } from '../../protobuf/wire-reader.js';
import { WIRE_FIXED64 as FIXED64, WIRE_LENGTH_DELIMITED as DELIMITED, WIRE_VARINT as VARINT, tag } from '../../protobuf/wire-types.js';

/**
 * Fast decoder for remote-write 2.0 (`io.prometheus.write.v2.Request`). Symbols may come after the
 * series that reference them, so a first pass over the request collects the symbols and where each
 * series is; the second pass decodes the series and resolves their references.
 */

/**
 * Turns label references (name, value, name, value, ...) into labels as they arrive, possibly over
 * several `labels_refs` fields. One for series and one for exemplars, reused for the whole request.
 */
class LabelRefs {
  labels: Label[] = [];
  private name = '';
  private count = 0;

  constructor(private readonly symbols: string[]) {}

  start(): void {
    this.labels = [];
    this.count = 0;
  }

  /** Reads a packed `labels_refs` field (`packed`) or a single unpacked reference. */
  read(r: WireReader, end: number, packed: boolean, messageStart: number): void {
    r.enter('labels_refs', -1);
    if (packed) {
      const fieldEnd = r.readDelimitedEnd(end);
      while (r.pos < fieldEnd) this.add(r, r.readUint32(fieldEnd), messageStart);
    } else {
      this.add(r, r.readUint32(end), messageStart);
    }
    r.leave();
  }

  private add(r: WireReader, ref: number, messageStart: number): void {
    const text = resolveSymbol(r, this.symbols, ref, messageStart);
    if ((this.count & 1) === 0) this.name = text;
    else this.labels.push({ name: this.name, value: text });
    this.count++;
  }

  finish(r: WireReader, messageStart: number): Label[] {
    if ((this.count & 1) !== 0) {
      r.enter('labels_refs', -1);
      r.fail(`odd number of label references (${this.count})`, messageStart);
    }
    return this.labels;
  }
}

/** Per-request state, reused from series to series. */
interface V2Context {
  symbols: string[];
  seriesLabels: LabelRefs;
  exemplarLabels: LabelRefs;
}

const REQUEST_SYMBOLS = tag(4, DELIMITED);
const REQUEST_TIMESERIES = tag(5, DELIMITED);

export function decodeRequestV2(r: WireReader): WriteRequest {
  const end = r.bytes.length;
  const symbols: string[] = [];
  // Start and end offset of each series, flattened.
  const seriesBounds: number[] = [];
  while (r.pos < end) {
    const tagAt = r.pos;
    const fieldTag = r.readTag(end);
    if (fieldTag === REQUEST_SYMBOLS) {
      r.enter('symbols', symbols.length);
      symbols.push(r.readString(end));
      r.leave();
    } else if (fieldTag === REQUEST_TIMESERIES) {
      r.enter('timeseries', seriesBounds.length / 2);
      const seriesEnd = r.readDelimitedEnd(end);
      seriesBounds.push(r.pos, seriesEnd);
      r.pos = seriesEnd;
      r.leave();
    } else {
      r.skipField(fieldTag, end, 0, tagAt);
    }
  }
  if (symbols.length > 0 && symbols[0] !== '') {
    r.enter('symbols', 0);
    r.fail('the first symbol must be the empty string', 0);
  }

  const context: V2Context = { symbols, seriesLabels: new LabelRefs(symbols), exemplarLabels: new LabelRefs(symbols) };
  const timeseries: TimeSeries[] = [];
  for (let i = 0; i < seriesBounds.length; i += 2) {
    r.pos = seriesBounds[i];
    r.enter('timeseries', timeseries.length);
    timeseries.push(decodeSeriesV2(r, seriesBounds[i + 1], context));
    r.leave();
  }
  return { version: '2.0', timeseries, metadata: liftSeriesMetadata(timeseries) };
}

const SERIES_LABELS_REFS_PACKED = tag(1, DELIMITED);
const SERIES_LABELS_REF = tag(1, VARINT);
const SERIES_SAMPLES = tag(2, DELIMITED);
const SERIES_HISTOGRAMS = tag(3, DELIMITED);
const SERIES_EXEMPLARS = tag(4, DELIMITED);
const SERIES_METADATA = tag(5, DELIMITED);
const SERIES_CREATED_TIMESTAMP = tag(6, VARINT);

const METADATA_TYPE = tag(1, VARINT);
const METADATA_HELP_REF = tag(3, VARINT);
const METADATA_UNIT_REF = tag(4, VARINT);

function decodeSeriesV2(r: WireReader, end: number, context: V2Context): TimeSeries {
  const seriesStart = r.pos;
  const labelRefs = context.seriesLabels;
  labelRefs.start();
  const samples: Sample[] = [];
  const histograms: Histogram[] = [];
  const exemplars: Exemplar[] = [];
  let createdTimestamp = 0;
  // Repeated `metadata` fields merge field by field, as protobuf specifies for message fields.
  let metadataType = 0;
  let helpRef = 0;
  let unitRef = 0;
  while (r.pos < end) {
    const tagAt = r.pos;
    const fieldTag = r.readTag(end);
    if (fieldTag === SERIES_LABELS_REFS_PACKED || fieldTag === SERIES_LABELS_REF) {
      labelRefs.read(r, end, fieldTag === SERIES_LABELS_REFS_PACKED, seriesStart);
    } else if (fieldTag === SERIES_SAMPLES) {
      r.enter('samples', samples.length);
      const sampleEnd = r.readDelimitedEnd(end);
      samples.push(decodeSample(r, sampleEnd, 2));
      r.leave();
    } else if (fieldTag === SERIES_HISTOGRAMS) {
      r.enter('histograms', histograms.length);
      const histogramEnd = r.readDelimitedEnd(end);
      histograms.push(decodeHistogram(r, histogramEnd, 2));
      r.leave();
    } else if (fieldTag === SERIES_EXEMPLARS) {
      r.enter('exemplars', exemplars.length);
      const exemplarEnd = r.readDelimitedEnd(end);
      exemplars.push(decodeExemplarV2(r, exemplarEnd, context));
      r.leave();
    } else if (fieldTag === SERIES_METADATA) {
      r.enter('metadata', -1);
      const metadataEnd = r.readDelimitedEnd(end);
      while (r.pos < metadataEnd) {
        const metadataTagAt = r.pos;
        const metadataTag = r.readTag(metadataEnd);
        if (metadataTag === METADATA_TYPE) metadataType = r.readInt32(metadataEnd);
        else if (metadataTag === METADATA_HELP_REF) helpRef = r.readUint32(metadataEnd);
        else if (metadataTag === METADATA_UNIT_REF) unitRef = r.readUint32(metadataEnd);
        else r.skipField(metadataTag, metadataEnd, 2, metadataTagAt);
      }
      r.leave();
    } else if (fieldTag === SERIES_CREATED_TIMESTAMP) {
      createdTimestamp = r.readInt64(end);
    } else {
      r.skipField(fieldTag, end, 1, tagAt);
    }
  }

  const labels = labelRefs.finish(r, seriesStart);
  const series: TimeSeries = { labels, samples, exemplars, histograms, createdTimestamp };
  r.enter('metadata', -1);
  const metadata = seriesMetadataOf(
    metricTypeFromWire(metadataType),
    resolveSymbol(r, context.symbols, helpRef, seriesStart),
    resolveSymbol(r, context.symbols, unitRef, seriesStart),
  );
  r.leave();
  if (metadata !== undefined) series.metadata = metadata;
  return series;
}

const EXEMPLAR_LABELS_REFS_PACKED = tag(1, DELIMITED);
const EXEMPLAR_LABELS_REF = tag(1, VARINT);
const EXEMPLAR_VALUE = tag(2, FIXED64);
const EXEMPLAR_TIMESTAMP = tag(3, VARINT);

function decodeExemplarV2(r: WireReader, end: number, context: V2Context): Exemplar {
  const exemplarStart = r.pos;
  const labelRefs = context.exemplarLabels;
  labelRefs.start();
  let value = 0;
  let timestamp = 0;
  while (r.pos < end) {
    const tagAt = r.pos;
    const fieldTag = r.readTag(end);
    if (fieldTag === EXEMPLAR_LABELS_REFS_PACKED || fieldTag === EXEMPLAR_LABELS_REF) {
      labelRefs.read(r, end, fieldTag === EXEMPLAR_LABELS_REFS_PACKED, exemplarStart);
    } else if (fieldTag === EXEMPLAR_VALUE) {
      value = r.readDouble(end);
    } else if (fieldTag === EXEMPLAR_TIMESTAMP) {
      timestamp = r.readInt64(end);
    } else {
      r.skipField(fieldTag, end, 2, tagAt);
    }
  }
  return { labels: labelRefs.finish(r, exemplarStart), value, timestamp };
}

/** 0 is always the empty string: the spec requires symbols[0] to be it (checked above). */
function resolveSymbol(r: WireReader, symbols: string[], ref: number, messageStart: number): string {
  if (ref === 0) return '';
  if (ref >= symbols.length) r.fail(`symbol reference ${ref} out of range (${symbols.length} symbols)`, messageStart);
  return symbols[ref];
}
