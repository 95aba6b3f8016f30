// The local world's fixed names: the region and credentials the emulators are addressed with, and
// the runtime's default resource prefix. Constants only, so a CLI that may talk to AWS instead
// (`payments dlq`) can use them without loading the emulators (lib/local/emulators.ts).

export const LOCAL_REGION = 'us-east-1';
/** Static credentials for the emulators; they accept any, and the SDK insists on some. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
/** The local runtime's resource name prefix unless it is given one (`local-posting.fifo`, ...). */
export const LOCAL_PREFIX = 'local';
