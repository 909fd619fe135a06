/*
 * uart.c: the serial line to the PC. The receive interrupt only stores bytes, so a burst from the
 * PC (an FR and its AK back to back, about 40 bytes) never waits on the main loop.
 */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <util/atomic.h>

#include "config.h"
#include "uart.h"

static volatile uint8_t rx[UART_RX_BYTES];
static volatile uint8_t rx_head, rx_count;
static volatile bool rx_overrun;
static volatile uint8_t tx[UART_TX_BYTES];
static volatile uint8_t tx_head, tx_count;

void uart_init(void) {
  UBRR0 = UART_UBRR;
  UCSR0A = _BV(U2X0);
  UCSR0C = _BV(UCSZ01) | _BV(UCSZ00); /* 8N1 */
  UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
}

ISR(USART_RX_vect) {
  bool framing = (UCSR0A & (_BV(FE0) | _BV(DOR0))) != 0;
  uint8_t byte = UDR0;
  /* A framing error or a full ring marks the line as damaged; the line layer then refuses it. */
  if (framing || rx_count == UART_RX_BYTES) {
    rx_overrun = true;
    return;
  }
  rx[(uint8_t)(rx_head + rx_count) & (UART_RX_BYTES - 1)] = byte;
  rx_count++;
}

bool uart_pending(void) { return rx_count != 0; }

bool uart_take(uint8_t *byte, bool *overrun) {
  bool got = false;
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    if (rx_count != 0) {
      *byte = rx[rx_head];
      rx_head = (uint8_t)((rx_head + 1) & (UART_RX_BYTES - 1));
      rx_count--;
      *overrun = rx_overrun;
      rx_overrun = false;
      got = true;
    }
  }
  return got;
}

ISR(USART_UDRE_vect) {
  if (tx_count == 0) {
    UCSR0B &= (uint8_t)~_BV(UDRIE0);
    return;
  }
  UDR0 = tx[tx_head];
  tx_head = (uint8_t)((tx_head + 1) & (UART_TX_BYTES - 1));
  tx_count--;
}

void uart_write(const char *text, uint8_t length) {
  for (uint8_t i = 0; i < length; i++) {
    while (tx_count == UART_TX_BYTES) {
    } /* the ring drains by interrupt */
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
      tx[(uint8_t)(tx_head + tx_count) & (UART_TX_BYTES - 1)] = (uint8_t)text[i];
      tx_count++;
      UCSR0B |= _BV(UDRIE0);
    }
  }
}
