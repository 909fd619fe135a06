/*
 * keypad.c: the tick, the matrix scan and the debounce, all in the Timer2 compare interrupt.
 *
 * Why in the interrupt: the issue asks that the keypad scan never waits for the PC. Here it cannot,
 * whatever the main loop is doing; the main loop only takes finished events from a queue.
 */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/pgmspace.h>
#include <util/atomic.h>
#include <util/delay.h>

#include "config.h"
#include "keypad.h"

/* The keypad as printed on its face, row by row: 1 2 3 / 4 5 6 / 7 8 9 / BACK 0 OK. */
static const uint8_t layout[KEYPAD_ROWS][KEYPAD_COLS] = {
    {1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {KEY_BACK, 0, KEY_OK}};


static volatile uint32_t now_ms;
/* The debounced state of every key (bit = key number) and how long each raw reading has differed. */
static uint16_t stable;
static uint8_t differ_ms[KEY_COUNT];
/* Keys whose press could not be queued: their release is dropped too, so every KD has its KU. */
static uint16_t dropped;

static volatile uint8_t queue[KEY_QUEUE_MAX];
static volatile uint8_t queue_head, queue_count;

void keypad_init(void) {
  /* Rows idle as inputs with pull-ups (high impedance to the switches), PRESS with its pull-up. */
  DDRC &= (uint8_t)~(KEYPAD_ROW_MASK | _BV(PRESS_BIT));
  PORTC |= KEYPAD_ROW_MASK | _BV(PRESS_BIT);
  DDRB &= (uint8_t)~KEYPAD_COL_MASK;
  PORTB |= KEYPAD_COL_MASK;
  /* Timer2 CTC: 16 MHz / 64 = 250 kHz, / 250 = 1 kHz. Timer2 leaves Timer0 to the Arduino core. */
  TCCR2A = _BV(WGM21);
  TCCR2B = _BV(CS22); /* prescaler 64 on Timer2 */
  OCR2A = (uint8_t)(F_CPU / 64 / TICK_HZ - 1);
  TIMSK2 = _BV(OCIE2A);
}

uint32_t keypad_now_ms(void) {
  uint32_t value;
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { value = now_ms; }
  return value;
}

bool keypad_pending(void) { return queue_count != 0; }

bool keypad_take(uint8_t *event) {
  bool got = false;
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    if (queue_count != 0) {
      *event = queue[queue_head];
      queue_head = (uint8_t)((queue_head + 1) & (KEY_QUEUE_MAX - 1));
      queue_count--;
      got = true;
    }
  }
  return got;
}

void keypad_name(uint8_t key, char name[6]) {
  if (key <= 9) {
    name[0] = (char)('0' + key);
    name[1] = '\0';
  } else {
    strcpy_P(name, key == KEY_OK ? PSTR("OK") : key == KEY_BACK ? PSTR("BACK") : PSTR("PRESS"));
  }
}

/* How many keys are down now (their releases are still to come). */
static uint8_t keys_down(void) {
  uint8_t count = 0;
  for (uint16_t bits = stable; bits != 0; bits &= (uint16_t)(bits - 1)) count++;
  return count;
}

/* Runs inside the interrupt, after `stable` took the new state. The queue keeps one slot for the
 * release of every key that is down, so a press that got in always gets its release in; a press
 * that finds no room is dropped together with its release: never a KD without its KU. */
static void push(uint8_t key, bool down) {
  uint16_t bit = (uint16_t)1 << key;
  if (!down && (dropped & bit)) {
    dropped &= (uint16_t)~bit;
    return;
  }
  if (down && queue_count + 1 + keys_down() > KEY_QUEUE_MAX) {
    dropped |= bit;
    return;
  }
  queue[(queue_head + queue_count) & (KEY_QUEUE_MAX - 1)] = (uint8_t)(key | (down ? KEY_EVENT_DOWN : 0));
  queue_count++;
}

/* Read which keys are closed right now: one row driven low at a time, the columns read back. */
static uint16_t read_raw(void) {
  uint16_t raw = 0;
  for (uint8_t row = 0; row < KEYPAD_ROWS; row++) {
    uint8_t bit = (uint8_t)_BV(row);
    PORTC &= (uint8_t)~bit; /* pull-up off first, so the row goes straight from high-Z to low */
    DDRC |= bit;
    _delay_us(5); /* let the column lines settle through the pull-ups */
    uint8_t cols = (uint8_t)(~PINB & KEYPAD_COL_MASK) >> KEYPAD_COL_SHIFT;
    DDRC &= (uint8_t)~bit;
    PORTC |= bit;
    for (uint8_t col = 0; col < KEYPAD_COLS; col++)
      if (cols & _BV(col)) raw |= (uint16_t)1 << layout[row][col];
  }
  if (!(PINC & _BV(PRESS_BIT))) raw |= (uint16_t)1 << KEY_PRESS;
  return raw;
}

ISR(TIMER2_COMPA_vect) {
  now_ms++;
  uint16_t raw = read_raw();
  for (uint8_t key = 0; key < KEY_COUNT; key++) {
    uint16_t bit = (uint16_t)1 << key;
    if ((raw & bit) == (stable & bit)) {
      differ_ms[key] = 0;
    } else if (++differ_ms[key] >= DEBOUNCE_MS) {
      differ_ms[key] = 0;
      stable ^= bit;
      push(key, (stable & bit) != 0);
    }
  }
}
