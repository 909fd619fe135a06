/*
 * link.h: the panel's end of the serial protocol (docs/serial-protocol.md) on the board.
 */
#ifndef LINK_H
#define LINK_H

#include <stdbool.h>
#include <stdint.h>

/* What the link asks the display to show (implemented in main.c). */
void display_frame(const char *text, bool low_battery, bool locked);
void display_link(bool connected);

void link_init(void);
/* Do everything that is due: read the PC's lines, send key events, resend, say hello. Never waits. */
void link_poll(void);
/* True when link_poll has nothing to do until the next byte or tick (the main loop may sleep). */
bool link_idle(void);

#endif
