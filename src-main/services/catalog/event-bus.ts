import { EventEmitter } from 'node:events';
import type { EventChannel, EventChannels } from '../../../src-shared/api';

type EventMap = { [E in EventChannel]: [EventChannels[E]] };

/** Push events from the core to every face (IPC in Electron, SSE in web mode, stderr in the CLI). */
export class EventBus extends EventEmitter<EventMap> {}
