/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The emulator's window: the card and the login page side by side, a header naming where the
 * keyboard goes, and the `?` help. Data flows one way: keys -> KeyDriver -> CardSession (firmware)
 * -> frames -> this view. The view holds only view state (focus, help, the lit key).
 */
import { Box, Text, useApp, useInput } from 'ink';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { BatteryInfo } from '../card.ts';
import type { CardInfo, Frame, Key } from '../../firmware/types.ts';
import { Card } from './Card.tsx';
import { Help, type HelpPage } from './Help.tsx';
import type { KeyDriver } from './key-driver.ts';
import { translateInput, type Action, type Focus } from './keymap.ts';
import { chooseLayout, tooSmallMessage } from './layout.ts';
import type { LoginModel, LoginState } from './login-model.ts';
import { LoginPage } from './LoginPage.tsx';
import type { HelpScreenRow } from './screen-table.ts';
import { assertNever } from '../../firmware/assert.ts';

/** The part of a CardSession the view reads: what it shows, never the firmware's state. */
export interface FrameSource {
  readonly info: CardInfo;
  readonly frame: Frame;
  readonly battery: BatteryInfo;
  onFrame(listener: (frame: Frame) => void): () => void;
}

export interface AppProps {
  readonly card: FrameSource;
  readonly driver: KeyDriver;
  readonly login: LoginModel;
  readonly screens: readonly HelpScreenRow[];
  readonly columns: number;
  readonly rows: number;
  /** The demo device's PIN, shown in the header on the demo setup (read at each render: a PIN change updates it). */
  readonly demoPin?: (() => string | undefined) | undefined;
  /** The demo user's password, shown beside the demo PIN. */
  readonly demoPassword?: string | undefined;
  readonly initialFocus?: Focus;
  /** Subscribe to the key the driver holds down (the keypad lights it). */
  readonly onPressed: (listener: (key: Key | undefined) => void) => () => void;
}

/**
 * Header text naming where the keyboard goes (the e2e test and users read it).
 * @example
 * focusLabel('login') // 'keys → LOGIN PAGE'
 */
export function focusLabel(focus: Focus): string {
  return focus === 'card' ? 'keys → CARD' : 'keys → LOGIN PAGE';
}

function percentOf(battery: BatteryInfo): number {
  return (battery.remainingOps / battery.capacityOps) * 100;
}

/**
 * @example
 * render(<App card={session} driver={driver} login={login} screens={helpScreens()} columns={120} rows={40} onPressed={…} />)
 */
export function App({ card, driver, login, screens, columns, rows, demoPin, demoPassword, initialFocus = 'card', onPressed }: AppProps) {
  const { exit } = useApp();
  const [frame, setFrame] = useState<Frame>(card.frame);
  const [pressed, setPressed] = useState<Key | undefined>(undefined);
  const [loginState, setLoginState] = useState<LoginState>(login.state);
  const [focus, setFocusState] = useState<Focus>(initialFocus);
  const [help, setHelpState] = useState<HelpPage | undefined>(undefined);
  // Keys typed together (a paste, or tmux send-keys) arrive before React re-renders: the routing
  // must read the focus as of the previous key, so it lives in refs and the state only redraws.
  const focusRef = useRef<Focus>(initialFocus);
  const helpRef = useRef<HelpPage | undefined>(undefined);
  const setFocus = useCallback((next: Focus) => {
    focusRef.current = next;
    setFocusState(next);
  }, []);
  const setHelp = useCallback((next: HelpPage | undefined) => {
    helpRef.current = next;
    setHelpState(next);
  }, []);

  useEffect(() => card.onFrame(setFrame), [card]);
  useEffect(() => onPressed(setPressed), [onPressed]);
  useEffect(() => login.subscribe(setLoginState), [login]);

  const dispatch = useCallback(
    (action: Action) => {
      switch (action.type) {
        case 'card':
          driver.press(action.key, action.holdMs);
          return;
        case 'loginDigit':
          return login.typeDigit(action.digit);
        case 'loginBack':
          return login.back();
        case 'loginSubmit':
          return void login.submit();
        case 'loginCancel':
          return void login.cancel();
        case 'newChallenge':
          return void login.newChallenge();
        case 'nextDevice':
          return void login.nextDevice();
        case 'changePin':
          return login.startPinChange();
        case 'unlockCode':
          return login.startUnlock();
        case 'switchFocus':
          return setFocus(focusRef.current === 'card' ? 'login' : 'card');
        case 'toggleHelp':
          // Closed -> the keys -> the screens -> closed.
          return setHelp(helpRef.current === undefined ? 'keys' : helpRef.current === 'keys' ? 'screens' : undefined);
        case 'closeHelp':
          return setHelp(undefined);
        case 'quit':
          return exit();
        default:
          return assertNever(action, 'action');
      }
    },
    [driver, login, exit, setFocus, setHelp],
  );

  useInput((input, key) => {
    for (const action of translateInput(input, key, focusRef.current, helpRef.current !== undefined)) dispatch(action);
  });

  const layout = chooseLayout(columns, rows);
  if (layout.type === 'tooSmall') return <Text>{tooSmallMessage(layout.columns, layout.rows)}</Text>;

  const header = (
    <Box width={columns} justifyContent="space-between">
      <Text bold>dsc emulate</Text>
      {demoPin?.() ? <Text color="yellow">demo PIN {demoPin()}{demoPassword ? `  password ${demoPassword}` : ''}</Text> : null}
      <Text inverse color="cyan">
        {` ${focusLabel(focus)} `}
      </Text>
      <Text dimColor>Tab switch · ? help · q quit</Text>
    </Box>
  );
  if (help !== undefined) {
    return (
      <Box flexDirection="column">
        {header}
        <Help page={help} screens={screens} profile={card.info.profile} columns={columns} rows={rows - 1} />
      </Box>
    );
  }
  return (
    <Box flexDirection="column">
      {header}
      <Box>
        <Card
          info={card.info}
          frame={frame}
          pressed={pressed}
          batteryPercent={percentOf(card.battery)}
          size={layout.lcd}
          focused={focus === 'card'}
          width={layout.cardColumns}
        />
        <LoginPage state={loginState} focused={focus === 'login'} width={layout.loginColumns} />
      </Box>
      <Text dimColor wrap="truncate-end">
        {focus === 'card'
          ? 'card: 0-9 · Enter OK · Backspace ◄ · p PRESS · h/Space hold PRESS ~2 s (power)'
          : 'login: 0-9 type · Enter submit · c challenge · n change PIN · Esc cancel'}
      </Text>
    </Box>
  );
}
