/**
 * Protobuf wire types: the low 3 bits of a field's tag, saying how its value is encoded (the
 * other bits are the field number). The only place they are defined.
 */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

/** A field's tag: its number and wire type, written as one varint before the value. */
export const tag = (field: number, wireType: number): number => (field << 3) | wireType;
