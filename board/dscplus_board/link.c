/*
 * link.c: the rules of docs/serial-protocol.md as the board (the panel) follows them.
 *
 * - Hello: HI at start-up and every HELLO_RETRY_MS until the PC answers (HA, or its own HI, which
 *   we answer HA). A hello restarts the count of the PC's sequence numbers.
 * - One key event on the wire at a time: KD/KU goes out, and the next only after its AK. A line
 *   that gets no AK within REPLY_TIMEOUT_MS, or that the PC refuses as damaged, is sent again with
 *   the SAME number: if the PC had applied it (only the AK was lost) it answers DUP and does not
 *   press the key twice. A line gets a NEW number only when the PC said it did not apply it
 *   (ER HELLO or STALE: it restarted, or lost our hello). After LINE_SENDS_MAX unanswered sends, or
 *   when the PC greets us while a sent line waits, the line is dropped instead: it may have been
 *   applied, and a key pressed twice is worse than a key the person sees missing on the LCD.
 * - Every damaged line from the PC is refused with ER and never applied. When something from the
 *   PC may have been lost (a damaged line, a GAP, an AK naming a frame we never got) the board says
 *   HI again once it is idle: the PC answers HA and FR, the frame on the display now.
 */
#include <avr/pgmspace.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "keypad.h"
#include "line.h"
#include "link.h"
#include "uart.h"

static bool connected;
static bool ever_connected;        /* a PC has answered since boot */
static uint32_t down_since;        /* when the link was last lost */
static uint16_t my_seq;            /* the number our next line carries */
static int16_t peer_last = -1;     /* the last accepted number from the PC, -1 before a hello */
static uint32_t last_frame;        /* the number of the last frame shown */
static bool have_frame;
static bool resync;                /* say HI again when idle: something from the PC may be lost */
static uint32_t hello_at;          /* when the last HI went out */
static bool hello_sent;
/* The key event on the wire: its line number, event, when it went out, how often it was sent. */
static bool pending;
static uint16_t pending_seq;
static uint8_t pending_event;
static uint32_t pending_at;
static uint8_t pending_sends;
/* The pending line needs a fresh number: a hello since it went out restarted the PC's count. */
static bool pending_renumber;
static uint16_t down_sent;         /* keys whose KD the PC has: their KU is owed, even after a reconnect */

static uint16_t take_seq(void) {
  uint16_t seq = my_seq;
  my_seq = (uint16_t)((my_seq + 1) % SEQUENCE_MODULO);
  return seq;
}

/* Texts live in flash (PSTR): the 2 KiB of RAM are kept for buffers and the stack. ERROR answers a
 * line that was refused for what it is; JUNK one that is damaged or unexpected, within the rate. */
#define ERROR(ref, code, text) send_error((ref), PSTR(code " \"" text "\""))
#define JUNK(ref, code, text) (junk_reply_allowed() ? ERROR(ref, code, text) : (void)0)

static uint32_t junk_window_at; /* when the current one-second window of junk replies began */
static uint8_t junk_replies;    /* junk replies sent in that window */

/* Protocol rule 4: a stream of junk cannot make the board talk faster than JUNK_REPLIES_PER_SECOND_MAX. */
static bool junk_reply_allowed(void) {
  uint32_t now = keypad_now_ms();
  if (now - junk_window_at >= 1000) {
    junk_window_at = now;
    junk_replies = 0;
  }
  if (junk_replies >= JUNK_REPLIES_PER_SECOND_MAX) return false;
  junk_replies++;
  return true;
}

static void send_error(int16_t ref, const char *code_and_text_P) {
  char fields[72]; /* REF CODE "TEXT": at most 3 + 1 + 7 + 1 + 50 bytes (a 48-character text in quotes), and the NUL */
  uint8_t at = 0;
  if (ref < 0) fields[at++] = '-';
  else at = (uint8_t)snprintf_P(fields, 5, PSTR("%d"), ref);
  fields[at++] = ' ';
  strncpy_P(fields + at, code_and_text_P, sizeof fields - at - 1);
  fields[sizeof fields - 1] = '\0';
  line_send("ER", take_seq(), fields);
}

static void send_hello(const char *type) {
  char fields[48];
  strcpy_P(fields, PSTR(PROTOCOL_VERSION " " BOARD_MODEL " " BOARD_FIRMWARE " " BOARD_SERIAL " R"));
  line_send(type, take_seq(), fields);
}

/* Is `text` (in RAM) equal to `literal_P` (in flash)? */
#define IS(text, literal) (strcmp_P((text), PSTR(literal)) == 0)

static void set_connected(bool value) {
  if (connected != value) display_link(value);
  if (connected && !value) down_since = keypad_now_ms();
  if (value) ever_connected = true;
  connected = value;
}

static void say_hello(void) {
  send_hello("HI");
  hello_sent = true;
  hello_at = keypad_now_ms();
  resync = false;
}

static void send_pending(void) {
  char key[6];
  if (pending_renumber) {
    pending_seq = take_seq();
    pending_renumber = false;
  }
  keypad_name(KEY_EVENT_KEY(pending_event), key);
  line_send((pending_event & KEY_EVENT_DOWN) ? "KD" : "KU", pending_seq, key);
  pending_at = keypad_now_ms();
  pending_sends++;
}

void link_init(void) { say_hello(); }

/* A hello from the PC (HI or HA) with our version: connected, the PC's count starts here. */
static void greeted(const line_t *line) {
  if (line->count != 5 || line->quoted != 0 || !IS(line->field[0], PROTOCOL_VERSION)) {
    set_connected(false);
    peer_last = -1;
    if (line->count == 5 && line->quoted == 0) ERROR(line->seq, "VERSION", "protocol refused; this end speaks " PROTOCOL_VERSION);
    else JUNK(line->seq, "FIELD", "a hello takes 5 bare fields");
    return;
  }
  peer_last = line->seq;
  if (line->type[1] == 'I') send_hello("HA"); /* HI is answered; HA is not */
  /* The count restarted: a line the PC may or may not have applied cannot go out again. */
  if (pending && pending_sends > 0 && !pending_renumber) pending = false;
  set_connected(true);
  hello_sent = false;
  resync = false;
  /* A line the PC never applied (never sent, or refused with HELLO/STALE) goes out now, numbered
   * after the hello that restarted the count. */
  if (pending) {
    pending_renumber = true;
    pending_sends = 0;
    send_pending();
  }
}

/* The fields of an FR ("FRAME FLAGS TEXT", the text 8 characters at most) or an AK ("REF FRAME"),
 * checked before the line's number is judged: a malformed line is refused whole and, as in
 * emulator/serial/link.ts, does not advance the count. */
static bool well_formed(const line_t *line, uint32_t *number, uint32_t *ref) {
  if (line->type[0] == 'A')
    return line->count == 2 && line->quoted == 0 && line_number(line->field[0], SEQUENCE_MODULO - 1, ref) && line_number(line->field[1], 0xFFFFFFFFUL, number);
  const char *flags = line->field[1];
  return line->count == 3 && line->quoted == 4 /* only the text */ && line_number(line->field[0], 0xFFFFFFFFUL, number) && strlen(flags) == 2 &&
         (flags[0] == 'B' || flags[0] == '-') && (flags[1] == 'L' || flags[1] == '-') &&
         strlen(line->field[2]) <= FRAME_TEXT_CHARS_MAX;
}

static void frame(const line_t *line, uint32_t number) {
  last_frame = number;
  have_frame = true;
  display_frame(line->field[2], line->field[1][0] == 'B', line->field[1][1] == 'L');
}

static void ack(uint32_t ref, uint32_t number) {
  if (!pending || ref != pending_seq) return; /* an AK for a line already settled */
  pending = false;
  /* The AK names the frame on the PC's display now; a different one here means its FR was lost. */
  if (!have_frame || number != last_frame) resync = true;
}

/* An ER from the PC about one of our lines. */
static void refused(const line_t *line) {
  if (line->count != 3 || !pending) return;
  uint32_t ref;
  bool about_pending = IS(line->field[0], "-") || (line_number(line->field[0], SEQUENCE_MODULO - 1, &ref) && ref == pending_seq);
  if (!about_pending) return;
  const char *code = line->field[1];
  if (IS(code, "GAP")) return; /* accepted anyway; its AK follows */
  if (IS(code, "DUP")) {
    pending = false; /* the PC had it already: applied once; its frame may be lost */
    resync = true;
  } else if (IS(code, "CRC") || IS(code, "SYNTAX") || IS(code, "LONG")) {
    pending_at = keypad_now_ms() - REPLY_TIMEOUT_MS; /* damaged on the way: send it again now */
  } else if (IS(code, "HELLO") || IS(code, "STALE")) {
    set_connected(false); /* not applied: the PC lost our hello (it restarted). Greet, then resend */
    pending_renumber = true;
    say_hello();
  } else {
    pending = false; /* refused for what it is (FIELD, TYPE, ROLE...): sending it again cannot help */
  }
}

static void receive(const line_t *line) {
  bool hello = IS(line->type, "HI") || IS(line->type, "HA");
  if (hello) {
    greeted(line);
    return;
  }
  if (IS(line->type, "ER")) {
    /* A well-formed ER is never answered; not judged, but it counts. A malformed one is refused
     * (FIELD) and does not count, like any line refused before the sequence check. */
    if (line->count != 3 || line->quoted != 4 || strlen(line->field[1]) < 3) {
      JUNK(line->seq, "FIELD", "ER takes REF CODE and a text");
      return;
    }
    if (connected) peer_last = line->seq;
    refused(line);
    return;
  }
  bool known = IS(line->type, "FR") || IS(line->type, "AK");
  bool ours = IS(line->type, "KD") || IS(line->type, "KU") || IS(line->type, "TM");
  if (!known && !ours) {
    JUNK(line->seq, "TYPE", "unknown message type");
    return;
  }
  if (!connected) {
    JUNK(line->seq, "HELLO", "no hello yet: send HI first");
    return;
  }
  uint32_t number = 0, ref = 0;
  if (known && !well_formed(line, &number, &ref)) {
    if (line->type[0] == 'F') JUNK(line->seq, "FIELD", "FR takes FRAME FLAGS and a text of 8 at most");
    else JUNK(line->seq, "FIELD", "AK takes REF and FRAME");
    resync = true; /* what the PC meant to show is unknown: ask again */
    return;
  }
  int16_t distance = (int16_t)((line->seq - peer_last + SEQUENCE_MODULO) % SEQUENCE_MODULO);
  if (distance == 0) {
    ERROR(line->seq, "DUP", "repeated line; dropped");
    return;
  }
  if (distance >= SEQUENCE_MODULO / 2) {
    ERROR(line->seq, "STALE", "old line; dropped");
    return;
  }
  if (distance > 1) {
    ERROR(line->seq, "GAP", "lines lost before this one");
    resync = true; /* a lost line may have been a frame */
  }
  peer_last = line->seq;
  if (ours) ERROR(line->seq, "ROLE", "a panel takes FR AK HI HA ER");
  else if (line->type[0] == 'F') frame(line, number);
  else ack(ref, number);
}

static void read_lines(void) {
  uint8_t byte;
  bool overrun;
  line_t line;
  while (uart_take(&byte, &overrun)) {
    switch (line_feed(byte, overrun, &line)) {
      case LINE_NONE: break;
      case LINE_OK: receive(&line); break;
      case LINE_CRC: JUNK(-1, "CRC", "CRC does not match the line"); resync = true; break;
      case LINE_SYNTAX: JUNK(-1, "SYNTAX", "not TYPE SEQ FIELD... then a CRC"); resync = true; break;
      case LINE_LONG: JUNK(-1, "LONG", "line longer than 96 bytes"); resync = true; break;
    }
  }
}

/* The next key event for the wire, if any. KD only while connected (a key pressed with no PC to
 * hear it means nothing); a KU only when its KD went out, and then even after a reconnect. */
static bool next_event(uint8_t *event) {
  /* While unconnected, a KD is dropped here (link_poll asks only once the outage is long). */
  uint8_t candidate;
  while (keypad_take(&candidate)) {
    uint16_t bit = (uint16_t)1 << KEY_EVENT_KEY(candidate);
    if (candidate & KEY_EVENT_DOWN) {
      if (!connected) continue;
      down_sent |= bit;
    } else {
      if (!(down_sent & bit)) continue;
      down_sent &= (uint16_t)~bit;
    }
    *event = candidate;
    return true;
  }
  return false;
}

void link_poll(void) {
  read_lines();
  uint32_t now = keypad_now_ms();
  if (!connected) {
    if (!hello_sent || now - hello_at >= HELLO_RETRY_MS) say_hello();
    /* Keys wait in the queue through a short outage (the link recovering from noise, the PC
     * reopening the port); before any PC answered, or after KEYS_KEPT_OFFLINE_MS without one,
     * presses are dropped: nobody is listening. A KU owed stays queued as the pending line. */
    if (!pending && (!ever_connected || now - down_since >= KEYS_KEPT_OFFLINE_MS)) {
      uint8_t drop;
      if (next_event(&drop)) {
        pending = true;
        pending_event = drop;
        pending_sends = 0;
        pending_renumber = true;
      }
    }
    return;
  }
  if (pending) {
    if (pending_sends == 0) {
      send_pending();
    } else if (now - pending_at >= REPLY_TIMEOUT_MS) {
      if (pending_sends >= LINE_SENDS_MAX) {
        set_connected(false); /* the PC is gone (or the line is): greet until it answers */
        pending = false;      /* maybe applied, maybe not: never resend it under a new number */
        say_hello();
      } else {
        send_pending();
      }
    }
    return;
  }
  /* Say HI when something from the PC may be lost, and again if that HI goes unanswered. */
  if (resync || (hello_sent && now - hello_at >= HELLO_RETRY_MS)) {
    say_hello();
    return;
  }
  if (next_event(&pending_event)) {
    pending = true;
    pending_renumber = true;
    pending_sends = 0;
    send_pending();
  }
}

bool link_idle(void) { return !uart_pending() && !keypad_pending(); }
