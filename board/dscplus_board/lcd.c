/*
 * lcd.c: HD44780 in 4-bit mode. Without R/W the busy flag cannot be read, so each command waits
 * the datasheet's worst case instead (37 us for most, 1.52 ms for clear and home). A full
 * two-row update is 34 writes, under 2 ms, and the keypad scan runs in its interrupt meanwhile.
 */
#include <avr/io.h>
#include <util/delay.h>

#include "config.h"
#include "lcd.h"

/* Put a nibble on D4..D7 and clock it in with a pulse on E (the LCD latches on the falling edge). */
static void nibble(uint8_t value) {
  PORTD = (uint8_t)((PORTD & 0x0F) | (uint8_t)(value << LCD_DATA_SHIFT));
  PORTB |= _BV(LCD_E_BIT);
  _delay_us(1); /* E high at least 450 ns */
  PORTB &= (uint8_t)~_BV(LCD_E_BIT);
  _delay_us(1);
}

static void byte(uint8_t value, uint8_t is_data) {
  if (is_data) PORTB |= _BV(LCD_RS_BIT);
  else PORTB &= (uint8_t)~_BV(LCD_RS_BIT);
  nibble(value >> 4);
  nibble(value & 0x0F);
  _delay_us(40); /* 37 us execution time, with margin */
}

void lcd_init(void) {
  DDRB |= _BV(LCD_RS_BIT) | _BV(LCD_E_BIT);
  DDRD |= 0xF0;
  PORTB &= (uint8_t)~(_BV(LCD_RS_BIT) | _BV(LCD_E_BIT));
  /* The datasheet's "initialisation by instruction": three times 8-bit mode, whatever mode the
   * controller woke up in (a board reset does not reset the LCD), then 4-bit mode. */
  nibble(0x3);
  _delay_ms(5);
  nibble(0x3);
  _delay_us(150);
  nibble(0x3);
  _delay_us(150);
  nibble(0x2);
  _delay_us(150);
  byte(0x28, 0); /* 4-bit, two lines, 5x8 font */
  byte(0x0C, 0); /* display on, no cursor, no blink */
  byte(0x06, 0); /* entry mode: move right, no shift */
  byte(0x01, 0); /* clear */
  _delay_ms(2);
}

void lcd_row(uint8_t row, const char *text) {
  byte((uint8_t)(0x80 | (row ? 0x40 : 0x00)), 0); /* DDRAM address of the row's first column */
  for (uint8_t col = 0; col < LCD_COLS; col++) byte((uint8_t)text[col], 1);
}
