/*
 * line.c: lines in and out. The decoder is as strict as emulator/serial/codec.ts (single spaces,
 * canonical numbers, a four-digit CRC over every byte before the '*'), so that line noise has to
 * pass both the CRC and the grammar before it can mean anything.
 */
#include <avr/pgmspace.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "line.h"
#include "uart.h"

/* The bytes of the line being received, NUL-terminated when it is parsed. */
static char buffer[LINE_BYTES_MAX + 1];
static uint8_t length;
static bool too_long, damaged;

uint16_t crc16(const uint8_t *bytes, uint8_t count) {
  /* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor. */
  uint16_t crc = 0xFFFF;
  while (count--) {
    crc ^= (uint16_t)(*bytes++) << 8;
    for (uint8_t bit = 0; bit < 8; bit++) crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
  }
  return crc;
}

static int8_t hex_digit(char c) {
  if (c >= '0' && c <= '9') return (int8_t)(c - '0');
  if (c >= 'A' && c <= 'F') return (int8_t)(c - 'A' + 10);
  if (c >= 'a' && c <= 'f') return (int8_t)(c - 'a' + 10);
  return -1;
}

bool line_number(const char *text, uint32_t max, uint32_t *value) {
  uint8_t digits = (uint8_t)strlen(text);
  if (digits == 0 || digits > 10 || (digits > 1 && text[0] == '0')) return false;
  uint32_t result = 0;
  for (uint8_t i = 0; i < digits; i++) {
    if (text[i] < '0' || text[i] > '9') return false;
    uint32_t next = result * 10 + (uint32_t)(text[i] - '0');
    if (next / 10 != result) return false; /* past 32 bits */
    result = next;
  }
  if (result > max) return false;
  *value = result;
  return true;
}

/* Split the body (NUL-terminated, up to the '*') into TYPE SEQ FIELD...: in place, NULs for spaces. */
static enum line_status parse(char *body, line_t *out) {
  char *tokens[LINE_FIELDS_MAX + 3];
  uint8_t count = 0;
  uint16_t quoted = 0; /* bit i: token i was quoted */
  char *at = body;
  while (*at != '\0') {
    if (count == LINE_FIELDS_MAX + 3) return LINE_SYNTAX;
    char *end;
    if (*at == '"') {
      end = strchr(at + 1, '"');
      if (end == NULL || (end[1] != '\0' && end[1] != ' ')) return LINE_SYNTAX;
      quoted |= (uint16_t)1 << count;
      tokens[count++] = at + 1; /* the text inside the quotes */
      *end = '\0';
      end++;
    } else {
      end = at;
      while (*end != '\0' && *end != ' ') end++;
      if (end == at) return LINE_SYNTAX; /* two spaces, or a leading space */
      tokens[count++] = at;
    }
    if (*end == ' ') {
      *end++ = '\0';
      if (*end == '\0') return LINE_SYNTAX; /* a trailing space */
    }
    at = end;
  }
  if (count < 2) return LINE_SYNTAX;
  const char *type = tokens[0];
  uint32_t seq;
  if ((quoted & 3) != 0) return LINE_SYNTAX; /* the type and the number are never quoted */
  if (strlen(type) != 2 || type[0] < 'A' || type[0] > 'Z' || type[1] < 'A' || type[1] > 'Z') return LINE_SYNTAX;
  if (strlen(tokens[1]) > 3 || !line_number(tokens[1], SEQUENCE_MODULO - 1, &seq)) return LINE_SYNTAX;
  memcpy(out->type, type, 3);
  out->seq = (int16_t)seq;
  out->count = (uint8_t)(count - 2);
  out->quoted = (uint8_t)(quoted >> 2);
  for (uint8_t i = 2; i < count; i++) out->field[i - 2] = tokens[i];
  return LINE_OK;
}

/* A whole line has arrived (without its line end): check it in the codec's order. */
static enum line_status finish(line_t *out) {
  buffer[length] = '\0';
  char *star = strrchr(buffer, '*');
  if (star == NULL || buffer + length - star != 5) return LINE_SYNTAX;
  uint16_t sent = 0;
  for (uint8_t i = 1; i <= 4; i++) {
    int8_t digit = hex_digit(star[i]);
    if (digit < 0) return LINE_SYNTAX;
    sent = (uint16_t)((sent << 4) | (uint8_t)digit);
  }
  uint8_t body_length = (uint8_t)(star - buffer);
  /* Bytes lost on the way in (overrun, framing) make the line damaged even if the CRC agreed. */
  if (damaged || crc16((const uint8_t *)buffer, body_length) != sent) return LINE_CRC;
  for (uint8_t i = 0; i < body_length; i++)
    if (buffer[i] < 0x20 || buffer[i] > 0x7E) return LINE_SYNTAX;
  *star = '\0';
  return parse(buffer, out);
}

enum line_status line_feed(uint8_t byte, bool overrun, line_t *out) {
  if (overrun) damaged = true;
  if (byte != '\r' && byte != '\n') {
    if (length == LINE_BYTES_MAX) too_long = true; /* drop the rest, up to the line end */
    else if (!too_long) buffer[length++] = (char)byte;
    return LINE_NONE;
  }
  enum line_status status = LINE_NONE;
  if (too_long) status = LINE_LONG;
  else if (length > 0) status = finish(out);
  length = 0;
  too_long = damaged = false;
  return status;
}

void line_send(const char *type, uint16_t seq, const char *fields) {
  char text[LINE_BYTES_MAX + 8];
  int body = snprintf_P(text, LINE_BYTES_MAX + 1, fields[0] ? PSTR("%s %u %s") : PSTR("%s %u"), type, seq, fields);
  if (body < 0 || body > LINE_BYTES_MAX - 5) return; /* our own lines are short; never send a long one */
  snprintf_P(text + body, sizeof text - (size_t)body, PSTR("*%04X\r\n"), crc16((const uint8_t *)text, (uint8_t)body));
  uart_write(text, (uint8_t)(body + 7));
}
