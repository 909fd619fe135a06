/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The login page beside the card: what a login server's page shows during a DSC+ login, driven by
 * the real host library on the embedded database. Renders a LoginState snapshot; the keys reach it
 * through the App's focus routing.
 */
import { Box, Text } from 'ink';
import type { LoginMode, LoginState } from './login-model.ts';

export interface LoginPageProps {
  readonly state: LoginState;
  readonly focused: boolean;
  readonly width: number;
}

const fieldLabels: Readonly<Record<LoginMode, string>> = {
  password: 'Password',
  login: 'Response',
  pinChallenge: 'Response',
  newPin: 'New PIN',
  confirmPin: 'New PIN again',
  lockCode: 'Lock code',
};

const titles: Readonly<Record<LoginMode, string>> = {
  password: 'Log in: password',
  login: 'Log in',
  pinChallenge: 'Change PIN: answer with the NEW PIN',
  newPin: 'Change PIN',
  confirmPin: 'Change PIN',
  lockCode: 'Unlock a locked card',
};

function shownField(mode: LoginMode, field: string): string {
  return mode === 'password' || mode === 'newPin' || mode === 'confirmPin' ? '*'.repeat(field.length) : field;
}

/**
 * @example
 * <LoginPage state={login.state} focused={focus === 'login'} width={40} />
 */
export function LoginPage({ state, focused, width }: LoginPageProps) {
  const device = state.devices[state.deviceIndex];
  const showsChallenge = state.mode === 'login' || state.mode === 'pinChallenge';
  return (
    <Box flexDirection="column" borderStyle={focused ? 'bold' : 'round'} borderColor={focused ? 'cyan' : 'gray'} paddingX={1} width={width} alignSelf="flex-start">
      <Text bold>{titles[state.mode]}</Text>
      <Text wrap="truncate-end">User:      {state.user}</Text>
      <Text wrap="truncate-end">
        Device:    {device ? `${device.serial} (${device.profile})` : '(none)'}
        {state.devices.length > 1 ? `  ${state.deviceIndex + 1}/${state.devices.length}, d: next` : ''}
      </Text>
      {showsChallenge ? (
        <Text>
          Challenge: <Text bold color="yellow">{state.challenge ?? '-'}</Text>
        </Text>
      ) : null}
      <Text>
        {`${fieldLabels[state.mode]}:`.padEnd(11)}
        <Text inverse={focused}>{`${shownField(state.mode, state.field)}${focused ? '_' : ''}`}</Text>
      </Text>
      <Box marginTop={1}>
        {state.verdict ? (
          <Text bold color={state.verdict.ok ? 'green' : 'red'}>
            {state.verdict.ok ? '✔ ' : '✘ '}
            {state.verdict.text}
          </Text>
        ) : (
          <Text dimColor>{state.mode === 'password' ? 'type the password, then Enter' : 'type the challenge into the card, its response here'}</Text>
        )}
      </Box>
      {state.notice ? <Text color="yellow">{state.notice}</Text> : null}
      <Text dimColor>c new login{state.loggedIn ? ' · n change PIN' : ''}{device?.profile === 'digipass' ? ' · u unlock' : ''}</Text>
    </Box>
  );
}
