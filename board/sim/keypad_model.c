/*
 * keypad_model.c: switches for the simulated board, answering its row scan as real ones would.
 *
 * The firmware selects one row at a time by driving it low (DDR bit 1, PORT bit 0; the other rows
 * are inputs) and reads the three columns, which have pull-ups. A closed switch joins its row and
 * its column, so a column reads low exactly while a row with a closed key on it is driven low.
 * The model recomputes the columns on every write to the row port's PORT or DDR register, before
 * the firmware's next instruction, and holds them with simavr's "external pull" so later writes
 * to the column port (the LCD's RS/E share it) do not overwrite them.
 *
 * Contacts bounce: after a finger moves, the contact flips BOUNCE_FLIPS times, BOUNCE_US apart,
 * before it settles (2 ms in all), so the firmware's debounce is exercised as on real switches.
 */
#include <string.h>

#include "avr_ioport.h"
#include "keypad_model.h"
#include "sim_cycle_timers.h"
#include "sim_irq.h"
#include "sim_time.h"

#define ROW_PORT 'C'
#define ROW_MASK 0x0F
#define COL_PORT 'B'
#define COL_SHIFT 2
#define COL_MASK 0x1C
#define PRESS_PORT 'C'
#define PRESS_BIT 4
#define BOUNCE_FLIPS 6
#define BOUNCE_US 333

/* The face of the keypad, row by row; the same as the firmware's layout. */
static const int layout[4][3] = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {MODEL_KEY_BACK, 0, MODEL_KEY_OK}};
static const char *const names[MODEL_KEY_COUNT] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "OK", "BACK", "PRESS"};

static bool finger[MODEL_KEY_COUNT];  /* where the finger put the key */
static bool contact[MODEL_KEY_COUNT]; /* whether the contact conducts now (bounces before it follows) */
static int flips_left[MODEL_KEY_COUNT];
static uint8_t row_ddr, row_port;     /* the row port's registers as last written */

int keypad_model_key(const char *name) {
  for (int key = 0; key < MODEL_KEY_COUNT; key++)
    if (strcmp(names[key], name) == 0) return key;
  return -1;
}

/* Drive the column and PRESS pins from the contacts and the selected rows. */
static void update_pins(avr_t *avr) {
  uint8_t columns = COL_MASK; /* pulled up: high unless a closed key joins them to a low row */
  for (int row = 0; row < 4; row++) {
    bool driven_low = (row_ddr & (1 << row)) && !(row_port & (1 << row));
    if (!driven_low) continue;
    for (int col = 0; col < 3; col++)
      if (contact[layout[row][col]]) columns &= (uint8_t) ~(1 << (col + COL_SHIFT));
  }
  avr_ioport_external_t cols = {.name = COL_PORT, .mask = COL_MASK, .value = columns};
  avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL(COL_PORT), &cols);
  uint8_t press = contact[MODEL_KEY_PRESS] ? 0 : (1 << PRESS_BIT);
  avr_ioport_external_t pressPull = {.name = PRESS_PORT, .mask = 1 << PRESS_BIT, .value = press};
  avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL(PRESS_PORT), &pressPull);
  for (int bit = COL_SHIFT; bit < COL_SHIFT + 3; bit++)
    avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(COL_PORT), bit), (columns >> bit) & 1);
  avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(PRESS_PORT), PRESS_BIT), press ? 1 : 0);
}

/* The row port's DDR or PORT register was written; the irq carries the new value (the register
 * in avr->data is updated only after the notification). */
static void row_ddr_written(avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq;
  row_ddr = (uint8_t)value & ROW_MASK;
  update_pins((avr_t *)param);
}

static void row_port_written(avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq;
  row_port = (uint8_t)value & ROW_MASK;
  update_pins((avr_t *)param);
}

void keypad_model_attach(avr_t *avr) {
  static bool hooked;
  if (!hooked) {
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(ROW_PORT), IOPORT_IRQ_DIRECTION_ALL), row_ddr_written, avr);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(ROW_PORT), IOPORT_IRQ_REG_PORT), row_port_written, avr);
    hooked = true;
  }
  /* simavr skips a pin change that repeats the pin's last value ("filtered" irqs). A reset clears
   * the PIN registers behind the irqs' backs, so every value the model drives must go through. */
  for (int bit = COL_SHIFT; bit < COL_SHIFT + 3; bit++)
    avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(COL_PORT), bit)->flags &= ~IRQ_FLAG_FILTERED;
  avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(PRESS_PORT), PRESS_BIT)->flags &= ~IRQ_FLAG_FILTERED;
  row_ddr = 0;
  row_port = 0;
  update_pins(avr);
}

/* One bounce of one key: flip the contact, or settle it where the finger is. */
static avr_cycle_count_t bounce(avr_t *avr, avr_cycle_count_t when, void *param) {
  int key = (int)(intptr_t)param;
  if (flips_left[key] > 0) {
    flips_left[key]--;
    contact[key] = !contact[key];
  } else {
    contact[key] = finger[key];
  }
  update_pins(avr);
  return flips_left[key] > 0 || contact[key] != finger[key] ? when + avr_usec_to_cycles(avr, BOUNCE_US) : 0;
}

void keypad_model_set(avr_t *avr, int key, bool down) {
  if (key < 0 || key >= MODEL_KEY_COUNT || finger[key] == down) return;
  finger[key] = down;
  flips_left[key] = BOUNCE_FLIPS;
  contact[key] = down; /* the first touch conducts at once */
  update_pins(avr);
  avr_cycle_timer_register_usec(avr, BOUNCE_US, bounce, (void *)(intptr_t)key);
}
