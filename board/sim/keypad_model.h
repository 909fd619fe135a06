/*
 * keypad_model.h: the board's 4x3 key matrix and PRESS button as switches on the simulated pins.
 */
#ifndef KEYPAD_MODEL_H
#define KEYPAD_MODEL_H

#include <stdbool.h>
#include "sim_avr.h"

/* Key numbers as in the firmware (board/dscplus_board/keypad.h): 0..9, then OK, BACK, PRESS. */
enum { MODEL_KEY_OK = 10, MODEL_KEY_BACK = 11, MODEL_KEY_PRESS = 12, MODEL_KEY_COUNT = 13 };

/* Wire the model to the AVR's ports (again after a reset: the ports forget their external pulls). */
void keypad_model_attach(avr_t *avr);
/* A finger closes (down) or opens a key. The contact bounces for a while before it settles. */
void keypad_model_set(avr_t *avr, int key, bool down);
/* The key number of a wire name ("0".."9", "OK", "BACK", "PRESS"), or -1. */
int keypad_model_key(const char *name);

#endif
