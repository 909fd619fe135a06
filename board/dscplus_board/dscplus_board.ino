// dscplus reference keypad/display board: the sources are the .c files in this folder.
// main() is in main.c, so the Arduino core's setup()/loop() are not used; the IDE compiles and
// uploads the folder as it is (Tools > Board: Arduino Uno or Nano, ATmega328P). See docs/board.md.
