/*
 * main.c: the reference keypad/display board for dscplus (docs/board.md).
 *
 * The PC runs the card (`dsc serial`); this board is its keys and its LCD. The keypad is scanned
 * in the timer interrupt (keypad.c), bytes from the PC arrive by interrupt (uart.c), and this loop
 * does the rest: the protocol (link.c) and the LCD. When nothing is due the CPU sleeps until the
 * next interrupt (the 1 kHz tick or a byte), so the loop never waits for the PC.
 *
 * The LCD: row 1 is the card's 8-character frame, exactly as the PC sent it; row 2 the indicators
 * BATT (low battery) and LOCK (locked), and NO PC while the PC has not answered our hello.
 */
#include <avr/interrupt.h>
#include <avr/sleep.h>
#include <avr/wdt.h>
#include <stdbool.h>
#include <string.h>
#include <util/delay.h>

#include "config.h"
#include "keypad.h"
#include "lcd.h"
#include "link.h"
#include "uart.h"

static char rows[LCD_ROWS][LCD_COLS + 1];
static bool dirty[LCD_ROWS];
static bool battery, locked, linked;

/* Paint what the LCD's rows should show now into `rows`, marking a row dirty when it changed. */
static void compose(const char *text) {
  char next[LCD_ROWS][LCD_COLS + 1];
  memset(next, ' ', sizeof next);
  if (text != NULL) {
    /* The frame text, at most 8 characters (the line layer refused longer ones), left-aligned. */
    uint8_t length = (uint8_t)strnlen(text, FRAME_TEXT_CHARS_MAX);
    memcpy(next[0], text, length);
  } else {
    memcpy(next[0], rows[0], LCD_COLS);
  }
  if (battery) memcpy(&next[1][0], "BATT", 4);
  if (locked) memcpy(&next[1][5], "LOCK", 4);
  if (!linked) memcpy(&next[1][11], "NO PC", 5);
  for (uint8_t row = 0; row < LCD_ROWS; row++) {
    next[row][LCD_COLS] = '\0';
    if (memcmp(next[row], rows[row], LCD_COLS) != 0) {
      memcpy(rows[row], next[row], LCD_COLS + 1);
      dirty[row] = true;
    }
  }
}

void display_frame(const char *text, bool low_battery, bool is_locked) {
  battery = low_battery;
  locked = is_locked;
  compose(text);
}

void display_link(bool connected) {
  linked = connected;
  compose(NULL);
}

static void redraw(void) {
  for (uint8_t row = 0; row < LCD_ROWS; row++) {
    if (!dirty[row]) continue;
    dirty[row] = false;
    lcd_row(row, rows[row]);
  }
}

int main(void) {
  /* A watchdog left running by a bootloader would reset us in a loop: stop it first. */
  MCUSR = 0;
  wdt_disable();
  keypad_init();
  uart_init();
  _delay_ms(LCD_POWER_UP_MS);
  lcd_init();
  memset(rows, '#', sizeof rows); /* differs from every real row: the first compose paints both */
  compose("");
  redraw();
  sei();
  link_init();
  for (;;) {
    link_poll();
    redraw();
    /* Sleep until the next interrupt, unless a byte or a key came in meanwhile. Interrupts are off
     * between the check and the sleep instruction, and `sei` takes effect only after `sleep`, so no
     * wake-up can slip in between (the avr-libc idiom). */
    set_sleep_mode(SLEEP_MODE_IDLE);
    cli();
    if (link_idle()) {
      sleep_enable();
      sei();
      sleep_cpu();
      sleep_disable();
    }
    sei();
  }
}
