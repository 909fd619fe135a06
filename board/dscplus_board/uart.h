/*
 * uart.h: USART0 with interrupt-driven receive and transmit rings.
 */
#ifndef UART_H
#define UART_H

#include <stdbool.h>
#include <stdint.h>

void uart_init(void);
/* Take one received byte; false when none. *overrun is set when bytes were lost before it. */
bool uart_take(uint8_t *byte, bool *overrun);
bool uart_pending(void);
/* Queue bytes for sending. Waits only while the ring is full (for the UART's own shift register,
 * at most one line time, about 8 ms at 115200 baud), never for the PC. */
void uart_write(const char *text, uint8_t length);

#endif
