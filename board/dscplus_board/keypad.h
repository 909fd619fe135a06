/*
 * keypad.h: the 1 kHz tick, the 4x3 keypad matrix and the PRESS button, scanned and debounced
 * in the timer interrupt so nothing the main loop does (LCD, serial) can delay or miss a key.
 */
#ifndef KEYPAD_H
#define KEYPAD_H

#include <stdbool.h>
#include <stdint.h>

/* Key numbers: 0..9 the digits, then these. Also the index into keypad_names. */
enum { KEY_OK = 10, KEY_BACK = 11, KEY_PRESS = 12, KEY_COUNT = 13 };

/* A debounced event: the key number, with KEY_EVENT_DOWN set for a press, clear for a release. */
#define KEY_EVENT_DOWN 0x80
#define KEY_EVENT_KEY(e) ((uint8_t)((e) & 0x7F))

/* Set up the pins and the tick (Timer2, CTC, 1 kHz). Interrupts are enabled by the caller. */
void keypad_init(void);
/* Milliseconds since start-up, wrapping after 49 days (compare with subtraction). */
uint32_t keypad_now_ms(void);
/* Take the oldest debounced event; false when there is none. */
bool keypad_take(uint8_t *event);
/* True when an event is waiting (the main loop does not sleep then). */
bool keypad_pending(void);
/* The wire name of a key: "0".."9", "OK", "BACK", "PRESS". */
void keypad_name(uint8_t key, char name[6]);

#endif
