/*
 * config.h: every pin, time and size of the reference keypad/display board in one place.
 * The wiring table in docs/board.md lists the same pins; change both together.
 * Target: ATmega328P at 16 MHz (Arduino Uno or Nano).
 */
#ifndef CONFIG_H
#define CONFIG_H

#ifndef F_CPU
#define F_CPU 16000000UL
#endif

/* --- The serial line (docs/serial-protocol.md: 8N1, 115200 baud by default) ----------------- */
/* U2X mode, UBRR 16: 117647 baud, 2.1% fast, the same setting the Arduino core uses at 115200. */
#define UART_UBRR 16
#define UART_RX_BYTES 128 /* receive ring, bytes; a power of two (index masking) */
#define UART_TX_BYTES 128 /* transmit ring, bytes; a power of two, holds one whole line (<= 98) */

/* --- Protocol bounds (the same names and values as emulator/serial/messages.ts) -------------- */
#define LINE_BYTES_MAX 96        /* lineBytesMax: a longer line is dropped whole (ER LONG) */
#define FRAME_TEXT_CHARS_MAX 8   /* frameTextCharsMax: the card's display is 8 characters */
#define SEQUENCE_MODULO 1000     /* sequenceModulo: numbers 0..999, wrapping */
#define PROTOCOL_VERSION "2"

/* This board's hello. MODEL and FIRMWARE: 1-16 of A-Z a-z 0-9 . _ + -; no serial number: "-". */
#define BOARD_MODEL "DSCBOARD"
#define BOARD_FIRMWARE "1.0.0"
#define BOARD_SERIAL "-"

/* --- Timing, all in milliseconds of the 1 kHz tick --------------------------------------------- */
#define TICK_HZ 1000
/* A key must read the same for this many consecutive 1 ms scans before it counts as pressed or
 * released: the 20 ms docs/serial-protocol.md suggests for keypad domes, longer than their bounce
 * (a few ms) and short next to a press (about 100 ms). */
#define DEBOUNCE_MS 20
/* Until the PC answers HI with HA, HI goes out again this often (forever: the PC may start later). */
#define HELLO_RETRY_MS 1000
/* replyTimeoutMs of the protocol: how long a KD/KU waits for its AK before it is sent again. */
#define REPLY_TIMEOUT_MS 2000
/* After this many unanswered sends of one line the PC is taken as gone: back to saying HI. */
#define LINE_SENDS_MAX 3
/* junkRepliesPerSecondMax: at most this many ER answers to damaged lines (CRC, SYNTAX, TYPE, FIELD,
 * LONG, HELLO) in any one-second window; beyond that they are dropped silently (protocol rule 4). */
#define JUNK_REPLIES_PER_SECOND_MAX 10
/* Key events wait through an outage this short (the link recovering from noise, the PC reopening
 * the port) and go out after the reconnect; after a longer one they are dropped. */
#define KEYS_KEPT_OFFLINE_MS 5000
/* The LCD waits this long after power-up before its first command (HD44780 datasheet: > 40 ms). */
#define LCD_POWER_UP_MS 50

/* --- Key events --------------------------------------------------------------------------------- */
#define KEY_QUEUE_MAX 32 /* debounced key events waiting for the main loop; a power of two */

/* --- Pins (Arduino pin names in brackets) ------------------------------------------------------ */
/* LCD, 4-bit mode, R/W tied to ground (write only): RS PB0 [D8], E PB1 [D9], D4..D7 on PD4..PD7 [D4..D7]. */
#define LCD_RS_BIT 0 /* PORTB */
#define LCD_E_BIT 1  /* PORTB */
#define LCD_DATA_SHIFT 4 /* D4..D7 are PORTD bits 4..7 */

/* Keypad 4x3: rows on PC0..PC3 [A0..A3], driven low one at a time; columns on PB2..PB4
 * [D10..D12], inputs with pull-ups: a pressed key pulls its column low while its row is selected. */
#define KEYPAD_ROWS 4
#define KEYPAD_COLS 3
#define KEYPAD_ROW_MASK 0x0F /* PORTC / DDRC bits of the rows */
#define KEYPAD_COL_SHIFT 2   /* PINB bits 2..4 */
#define KEYPAD_COL_MASK 0x1C
/* The round PRESS button: PC4 [A4] to ground, input with pull-up. */
#define PRESS_BIT 4 /* PINC */

#endif
