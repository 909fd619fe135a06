/*
 * lcd.h: an HD44780 16x2 character LCD in 4-bit mode, write only (R/W tied to ground).
 */
#ifndef LCD_H
#define LCD_H

#include <stdint.h>

#define LCD_COLS 16
#define LCD_ROWS 2

/* Power-up sequence into 4-bit mode, display on, cleared. Needs LCD_POWER_UP_MS after power-up. */
void lcd_init(void);
/* Write one whole row (LCD_COLS characters: pad with spaces). */
void lcd_row(uint8_t row, const char *text);

#endif
