// The realtime channels (docs/realtime.md) through the same small client integrations use (client/realtime.ts).
import { useEffect, useState } from 'preact/hooks';
import { RealtimeClient, type ChannelMessage } from '../../client/realtime.ts';
import { accessToken } from './api.ts';

let rt: RealtimeClient | null = null;
let state: 'connecting' | 'open' | 'closed' = 'closed';
const stateListeners = new Set<(s: typeof state) => void>();

export function realtime(): RealtimeClient {
  rt ??= new RealtimeClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/realtime`,
    auth: async () => ({ token: (await accessToken()) ?? '' }),
    onState: (s) => {
      state = s;
      for (const l of stateListeners) l(s);
    },
  });
  return rt;
}

export function closeRealtime(): void {
  rt?.close();
  rt = null;
}

/**
 * Listens to a channel while the component is mounted. `refetch` runs once the subscription stands (what happened
 * before it is not sent live: read it then, so nothing falls between the first read and the subscription) and when
 * the server says what was missed is gone (a reset).
 */
export function useChannel(channel: string | null, onMessage: (m: ChannelMessage) => void, refetch?: () => void): void {
  useEffect(() => {
    if (!channel) return;
    return realtime().subscribe(channel, { onMessage, onReset: () => refetch?.(), onSubscribed: () => refetch?.() });
  }, [channel]);
}

/** Whether the realtime connection is up (shown in the header). */
export function useRealtimeState(): typeof state {
  const [s, set] = useState(state);
  useEffect(() => {
    stateListeners.add(set);
    return () => void stateListeners.delete(set);
  }, []);
  return s;
}
