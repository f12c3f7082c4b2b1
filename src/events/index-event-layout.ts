import { WIRE_LENGTH_DELIMITED as DELIMITED, WIRE_VARINT as VARINT, tag } from '../protobuf/wire-types.js';

/**
 * The field tags of weir.v1.IndexEvents (proto/weir/v1/index_event.proto), which the hand-written
 * writer and reader share:
 *
 *   IndexEvents    1: SeriesEvent*, 2: MetadataEvent* (length-delimited), 3: source, 4: received_at_ms
 *   SeriesEvent    1: hash (8 bytes), 2: Label*, 3: first_timestamp_ms, 4: last_timestamp_ms
 *   Label          1: name, 2: value
 *   MetadataEvent  1: metric_family_name, 2: type, 3: help, 4: unit
 */

export const EVENT_SERIES = tag(1, DELIMITED);
export const EVENT_METADATA = tag(2, DELIMITED);
export const EVENT_SOURCE = tag(3, DELIMITED);
export const EVENT_RECEIVED_AT = tag(4, VARINT);

export const SERIES_HASH = tag(1, DELIMITED);
export const SERIES_LABEL = tag(2, DELIMITED);
export const SERIES_FIRST = tag(3, VARINT);
export const SERIES_LAST = tag(4, VARINT);

export const LABEL_NAME = tag(1, DELIMITED);
export const LABEL_VALUE = tag(2, DELIMITED);

export const METADATA_NAME = tag(1, DELIMITED);
export const METADATA_TYPE = tag(2, DELIMITED);
export const METADATA_HELP = tag(3, DELIMITED);
export const METADATA_UNIT = tag(4, DELIMITED);
