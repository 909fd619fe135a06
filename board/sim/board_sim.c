/*
 * board_sim.c: the reference board's real ELF on simavr's ATmega328P, with
 *   - its UART on a pseudo-terminal (simavr's uart_pty part), for `dsc serial --port`;
 *   - simavr's HD44780 part on the LCD pins (RS PB0, E PB1, D4..D7 PD4..PD7, R/W low);
 *   - a key-matrix model on the keypad pins (keypad_model.c).
 *
 *   usage: board-sim ELF
 *
 * Commands, one per line on stdin:  down KEY | up KEY | reset | noise-in HEX | noise-out HEX |
 *   stack | pins | cpu | quit      (KEY: 0-9 OK BACK PRESS; HEX: bytes such as 4b44; noise-in goes to the
 *   board's receiver, noise-out towards the PC, both mixed into the traffic on the line)
 * Reports, one per line on stdout, T being microseconds of simulated time:
 *   pty PATH | key T down|up KEY | reset T | lcd T "ROW1" "ROW2" | stack BYTES |
 *   (an lcd report comes once the LCD settled; its T is the time of its last write)
 *   pins B PIN/DDR/PORT C PIN/DDR/PORT (hex, for debugging the wiring) | cpu … (the core's state,
 *   for diagnosing a stuck run) | error TEXT
 * The simulation runs in step with the wall clock, so the PC on the pty sees real timing.
 * simavr's parts print their own chatter; it goes to stderr, not into the reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "avr_ioport.h"
#include "avr_uart.h"
#include "hd44780.h"
#include "keypad_model.h"
#include "sim_avr.h"
#include "sim_elf.h"
#include "sim_interrupts.h"
#include "sim_time.h"
#include "uart_pty.h"

#define FREQUENCY_HZ 16000000
#define SRAM_START 0x100
/* The LCD's text is reported once no write came for this long: a redraw (34 writes about 45 us
 * apart) is then complete, and no half-written row is ever reported. */
#define LCD_SETTLE_US 500
/* How far the simulation may run ahead of the wall clock before it waits. */
#define AHEAD_US_MAX 1000
/* How far it may fall behind (a loaded machine) before it stops trying to catch up and takes the
 * lag as the new normal: catching up would run the AVR faster than real time and squeeze the time
 * between two key commands, so a 2 s hold of PRESS could reach the card as less. */
#define BEHIND_US_MAX 20000
/* Commands are read (and the wall clock checked) every this many microseconds of simulated time:
 * a key reaches the pins within 0.1 ms, far below the 10 ms debounce. */
#define POLL_US 100
/* The longest command line read from stdin, in bytes. */
#define COMMAND_BYTES_MAX 256
/* The symbolic link simavr's uart_pty part makes for UART 0. */
#define UART_PTY_LINK "/tmp/simavr-uart0"
/* Stack painting: every byte above the static data holds this until the stack reaches it. */
#define PAINT 0xA5

static avr_t *avr;
static uart_pty_t pty;
static hd44780_t lcd;
static FILE *report;
static uint32_t ram_end;        /* first byte after .data and .bss */
static int stack_high_water;    /* deepest stack seen, bytes, over every reset */
static char shown[2][17];       /* the rows last reported */
static avr_cycle_count_t lcd_written_at;
static int lcd_unreported;

static uint64_t anchor_wall_ns;       /* the wall clock at anchor_cycle, shifted by every lag given up */
static avr_cycle_count_t anchor_cycle;

static uint64_t wall_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

/* Keep simulated time in step with the wall clock, `ahead` cycles from now. */
static void pace(avr_cycle_count_t ahead) {
  uint64_t sim = avr_cycles_to_nsec(avr, avr->cycle + ahead - anchor_cycle), wall = wall_ns() - anchor_wall_ns;
  if (sim > wall + AHEAD_US_MAX * 1000ull) usleep((useconds_t)((sim - wall) / 1000));
  else if (wall > sim + BEHIND_US_MAX * 1000ull) anchor_wall_ns += wall - sim;
}

/* simavr calls this while the AVR sleeps, before it jumps `how_long` cycles to the next event. */
static void sleep_in_step(avr_t *core, avr_cycle_count_t how_long) {
  (void)core;
  pace(how_long);
}

static unsigned long long now_us(void) { return (unsigned long long)avr_cycles_to_usec(avr, avr->cycle); }

/* Fill the free RAM with PAINT; what the stack overwrites shows how deep it went. */
static void paint_stack(void) {
  for (uint32_t a = ram_end; a <= avr->ramend; a++) avr->data[a] = PAINT;
}

static int stack_depth(void) {
  uint32_t a = ram_end;
  while (a <= avr->ramend && avr->data[a] == PAINT) a++;
  return (int)(avr->ramend + 1 - a);
}

/* The HD44780 part raises DATA_IN for every byte written to it: remember when. */
static void lcd_written(avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq, (void)value, (void)param;
  lcd_written_at = avr->cycle;
  lcd_unreported = 1;
}

static void report_lcd_if_settled(void) {
  if (!lcd_unreported || avr->cycle - lcd_written_at < avr_usec_to_cycles(avr, LCD_SETTLE_US)) return;
  lcd_unreported = 0;
  char rows[2][17];
  for (int row = 0; row < 2; row++) {
    memcpy(rows[row], lcd.vram + (row ? 0x40 : 0x00), 16);
    rows[row][16] = '\0';
    for (int i = 0; i < 16; i++)
      if (rows[row][i] < 0x20 || rows[row][i] > 0x7E) rows[row][i] = '?';
  }
  if (memcmp(rows, shown, sizeof rows) == 0) return;
  memcpy(shown, rows, sizeof rows);
  /* Stamped with the last write, when the LCD finished changing (not when the settling was noticed). */
  fprintf(report, "lcd %llu \"%s\" \"%s\"\n", (unsigned long long)avr_cycles_to_usec(avr, lcd_written_at), rows[0], rows[1]);
}

static int hex_bytes(const char *text, uint8_t *out, int max) {
  int count = 0;
  while (text[0] && text[1] && count < max) {
    unsigned int byte;
    if (sscanf(text, "%2x", &byte) != 1) return -1;
    out[count++] = (uint8_t)byte;
    text += 2;
  }
  return text[0] ? -1 : count;
}

/* Apply one command line; returns 0 to stop. */
static int command(char *line) {
  char verb[16], arg[COMMAND_BYTES_MAX];
  arg[0] = '\0';
  if (sscanf(line, "%15s %255s", verb, arg) < 1) return 1;
  if (strcmp(verb, "down") == 0 || strcmp(verb, "up") == 0) {
    int key = keypad_model_key(arg);
    if (key < 0) {
      fprintf(report, "error unknown key \"%s\"\n", arg);
      return 1;
    }
    fprintf(report, "key %llu %s %s\n", now_us(), verb, arg);
    keypad_model_set(avr, key, verb[0] == 'd');
  } else if (strcmp(verb, "reset") == 0) {
    /* What the PC's DTR does through the Arduino's reset capacitor. RAM survives a reset. */
    int depth = stack_depth();
    if (depth > stack_high_water) stack_high_water = depth;
    avr_reset(avr);
    paint_stack();
    keypad_model_attach(avr);
    fprintf(report, "reset %llu\n", now_us());
  } else if (strcmp(verb, "noise-in") == 0 || strcmp(verb, "noise-out") == 0) {
    uint8_t bytes[COMMAND_BYTES_MAX / 2];
    int count = hex_bytes(arg, bytes, (int)sizeof bytes);
    if (count < 0) {
      fprintf(report, "error bad hex \"%s\"\n", arg);
      return 1;
    }
    if (strcmp(verb, "noise-out") == 0) {
      /* Towards the PC: into the part's output queue, between the board's own bytes. */
      for (int i = 0; i < count; i++) avr_raise_irq(pty.irq + IRQ_UART_PTY_BYTE_IN, bytes[i]);
    } else {
      /* Towards the board: written into the pty from the PC's side, so the bytes queue behind the
       * PC's own and reach the UART through the part's flow control (raised straight into the
       * UART they could overflow simavr's 64-byte receive FIFO, which a real line cannot do). */
      static int pc_side = -1;
      if (pc_side < 0) pc_side = open(pty.pty.slavename, O_WRONLY | O_NOCTTY | O_NONBLOCK);
      if (pc_side < 0 || write(pc_side, bytes, (size_t)count) != count) fprintf(report, "error cannot write noise into %s\n", pty.pty.slavename);
    }
  } else if (strcmp(verb, "stack") == 0) {
    int depth = stack_depth();
    fprintf(report, "stack %d\n", depth > stack_high_water ? depth : stack_high_water);
  } else if (strcmp(verb, "pins") == 0) {
    fprintf(report, "pins B %02x/%02x/%02x C %02x/%02x/%02x\n", avr->data[0x23], avr->data[0x24], avr->data[0x25], avr->data[0x26], avr->data[0x27], avr->data[0x28]);
  } else if (strcmp(verb, "cpu") == 0) {
    int timers = 0;
    for (avr_cycle_timer_slot_p t = avr->cycle_timers.timer; t; t = t->next) timers++;
    fprintf(report, "cpu pc 0x%04x state %d at %llu I %d interrupt_state %d pending %d cycle-timers %d UCSR0A %02x UCSR0B %02x TIMSK2 %02x TCCR2B %02x\n",
            (unsigned)avr->pc, avr->state, now_us(), avr->sreg[S_I], avr->interrupt_state, avr_has_pending_interrupts(avr), timers,
            avr->data[0xC0], avr->data[0xC1], avr->data[0x70], avr->data[0xB1]);
  } else if (strcmp(verb, "quit") == 0) {
    return 0;
  } else {
    fprintf(report, "error unknown command \"%s\"\n", verb);
  }
  return 1;
}

/* Read whatever stdin has (it is non-blocking); run each complete line. 0 on quit or end of input. */
static int poll_commands(void) {
  static char buffer[COMMAND_BYTES_MAX];
  static size_t used;
  ssize_t got = read(0, buffer + used, sizeof buffer - 1 - used);
  if (got == 0) return 0;
  if (got < 0) return errno == EAGAIN || errno == EINTR ? 1 : 0;
  used += (size_t)got;
  char *end;
  while ((end = memchr(buffer, '\n', used)) != NULL) {
    *end = '\0';
    int go = command(buffer);
    used -= (size_t)(end + 1 - buffer);
    memmove(buffer, end + 1, used);
    if (!go) return 0;
  }
  if (used == sizeof buffer - 1) used = 0; /* a line longer than any command: drop it */
  return 1;
}

static void connect_lcd(void) {
  avr_irq_t *rs = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('B'), 0);
  avr_irq_t *e = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('B'), 1);
  avr_connect_irq(rs, lcd.irq + IRQ_HD44780_RS);
  avr_connect_irq(e, lcd.irq + IRQ_HD44780_E);
  for (int bit = 0; bit < 4; bit++)
    avr_connect_irq(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), 4 + bit), lcd.irq + IRQ_HD44780_D4 + bit);
  avr_raise_irq(lcd.irq + IRQ_HD44780_RW, 0); /* R/W tied to ground on the board */
  avr_irq_register_notify(lcd.irq + IRQ_HD44780_DATA_IN, lcd_written, NULL);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: board-sim ELF   (commands on stdin, reports on stdout; see board_sim.c)\n");
    return 2;
  }
  /* The reports get their own copy of stdout; fd 1 itself goes to stderr for simavr's printf. */
  report = fdopen(dup(1), "w");
  setvbuf(report, NULL, _IOLBF, 0);
  dup2(2, 1);
  elf_firmware_t firmware;
  memset(&firmware, 0, sizeof firmware);
  if (elf_read_firmware(argv[1], &firmware) != 0) {
    fprintf(stderr, "board-sim: cannot read the firmware %s\n", argv[1]);
    return 1;
  }
  avr = avr_make_mcu_by_name("atmega328p");
  if (avr == NULL) return 1;
  avr_init(avr);
  firmware.frequency = FREQUENCY_HZ;
  avr_load_firmware(avr, &firmware);
  ram_end = SRAM_START + firmware.datasize + firmware.bsssize;
  paint_stack();

  avr->sleep = sleep_in_step;
  anchor_wall_ns = wall_ns();
  anchor_cycle = avr->cycle;
  /* The part would start an xterm, or open a second "tap" pty, when these are set: never here. */
  unsetenv("SIMAVR_UART_XTERM");
  unsetenv("SIMAVR_UART_TAP");
  uart_pty_init(avr, &pty);
  uart_pty_connect(&pty, '0');
  /* The part also points /tmp/simavr-uart0 at its pty. We report the pty ourselves, and several
   * harnesses may run at once: take the link away if it is ours, so nothing is left in /tmp. */
  char target[sizeof pty.pty.slavename];
  ssize_t length = readlink(UART_PTY_LINK, target, sizeof target - 1);
  if (length > 0 && (target[length] = '\0', strcmp(target, pty.pty.slavename) == 0)) unlink(UART_PTY_LINK);
  hd44780_init(avr, &lcd, 16, 2);
  connect_lcd();
  keypad_model_attach(avr);
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  fprintf(report, "pty %s\n", pty.pty.slavename);

  avr_cycle_count_t polled_at = 0, poll_cycles = avr_usec_to_cycles(avr, POLL_US);
  for (;;) {
    int state = avr_run(avr);
    if (state == cpu_Done || state == cpu_Crashed) {
      fprintf(report, "error the simulated AVR stopped (state %d)\n", state);
      break;
    }
    report_lcd_if_settled();
    if (avr->cycle - polled_at < poll_cycles) continue;
    polled_at = avr->cycle;
    if (!poll_commands()) break;
    pace(0); /* running code (not sleeping) may get ahead of the wall clock too */
  }
  uart_pty_stop(&pty);
  return 0;
}
