/*
 * line.h: the wire form of docs/serial-protocol.md, `TYPE SEQ FIELD... *CRC\r\n`: collecting
 * received bytes into checked lines, and sealing lines to send.
 */
#ifndef LINE_H
#define LINE_H

#include <stdbool.h>
#include <stdint.h>

#define LINE_FIELDS_MAX 5 /* HI and HA carry five fields, the most of any message */

/* What a finished line turned out to be; the refusals are the protocol's error codes. */
enum line_status { LINE_NONE, LINE_OK, LINE_CRC, LINE_SYNTAX, LINE_LONG };

typedef struct {
  char type[3];  /* two upper-case letters */
  int16_t seq;   /* 0..999 */
  uint8_t count; /* number of fields */
  uint8_t quoted; /* bit i set: field i was quoted (only text fields may be, and they must be) */
  const char *field[LINE_FIELDS_MAX + 1]; /* quoted fields without their quotes; one extra to detect too many */
} line_t;

/* Feed one received byte. Returns LINE_NONE until a line end finishes a non-empty line; then the
 * line's status, and for LINE_OK the parsed line (its strings live until the next call). */
enum line_status line_feed(uint8_t byte, bool overrun, line_t *out);

/* Send `TYPE SEQ FIELDS*CRC\r\n`; fields is "" for none, else starts without a space. */
void line_send(const char *type, uint16_t seq, const char *fields);

/* Parse a decimal without leading zeros, at most `max`; false when it is not one. */
bool line_number(const char *text, uint32_t max, uint32_t *value);

uint16_t crc16(const uint8_t *bytes, uint8_t length);

#endif
